import Foundation
import Mustache

/// Builds each host's desired state from the playbooks: the template context into step
/// parameters, parameters into typed resources and their template shell (shell-quoted by
/// default).
public struct DesiredStateBuilder: Sendable {
    public let library: PlaybookLibrary
    /// Templates lvsctl implements itself rather than in templates/.
    static let builtIn = ["ipvs-service"]

    public init(library: PlaybookLibrary) { self.library = library }

    /// Every host of the cluster with its resources: the directors, then the real servers in order.
    public func hosts(_ inventory: Inventory) throws -> [HostState] { try hosts(DesiredCluster(inventory)) }

    public func hosts(_ desired: DesiredCluster) throws -> [HostState] {
        let inventory = desired.inventory
        var states: [HostState] = []
        // Every host renders the same few templates: parse each once (parsing was ~40% of
        // rendering 100 hosts), not once per host and item.
        var templates = CompiledTemplates()
        for director in inventory.directors {
            guard let host = inventory.host(named: director.host) else { continue }
            states.append(HostState(host: host, roles: [.director],
                                    resources: try resources(for: .director, facts: TemplateContext.director(desired, director: director),
                                                             mode: inventory.mode, &templates)))
        }
        let realServers = desired.realServerHosts
        let hostsByName = Dictionary(inventory.hosts.map { ($0.name, $0) }) { first, _ in first }
        for name in realServers.names {
            guard let host = hostsByName[name] else { continue }
            states.append(HostState(host: host, roles: [.realServer],
                                    resources: try resources(for: .realServer, facts: TemplateContext.realServer(desired, host: name),
                                                             mode: inventory.mode, &templates)))
        }
        return states
    }

    /// One director's desired state again, its keepalived.conf listing each service's real
    /// servers after `destinationOrder` (see `KeepalivedConfig.file`): what the run renders
    /// once it has read the active-active directors' tables.
    public func director(_ desired: DesiredCluster, _ director: Director,
                         destinationOrder: (IPVSServiceKey) -> [Endpoint]?) throws -> HostState? {
        guard let host = desired.inventory.host(named: director.host) else { return nil }
        var templates = CompiledTemplates()
        return HostState(host: host, roles: [.director],
                         resources: try resources(for: .director, facts: TemplateContext.director(desired, director: director, destinationOrder: destinationOrder),
                                                  mode: desired.inventory.mode, &templates))
    }

    func resources(for role: Role, facts: any TemplateFacts, mode: ForwardingMode,
                   _ templates: inout CompiledTemplates) throws -> [Resource] {
        guard let playbook = library.playbooks[role] else { return [] }
        var rendered: [Resource] = []
        var usedBy: [ResourceID: String] = [:]
        for definition in playbook.steps {
            if let modes = definition.modes, !modes.contains(mode) { continue }
            if let condition = definition.when, !Self.truthy(Self.lookup(condition, in: facts)) { continue }
            let template = library.templates[definition.template]
            guard template != nil || Self.builtIn.contains(definition.template) else {
                throw PlaybookError.unknownTemplate(step: definition.name, template: definition.template,
                                                    known: (library.templates.keys + Self.builtIn).sorted())
            }
            for parameter in template?.params ?? [] where !definition.with.contains(where: { $0.0 == parameter }) {
                throw PlaybookError.missingParameter(step: definition.name, template: definition.template, parameter: parameter)
            }
            for item in try items(definition, facts: facts) {
                let context = StepContext(facts: facts, item: item)
                let name = try templates.text(definition.name, context, step: definition.name)
                var parameters: [String: Any] = [:]
                for (key, value) in definition.with {
                    if !value.contains("{{"), let fact = Self.lookup(value, in: context), !(fact is String) {
                        parameters[key] = fact   // a list, or a typed value (an IPVS service)
                    } else if let fact = Self.reference(value).flatMap({ Self.lookup($0, in: context) }), !(fact is String), scalarText(fact) != nil {
                        parameters[key] = fact   // exactly one fact: its typed value, never printed and parsed back
                    } else {
                        let text = try templates.text(value, context, step: name)
                        if !text.isEmpty { parameters[key] = text }   // empty means absent: `{{#x}}` skips it
                    }
                }
                let resource: Resource
                if let template {
                    let identity = try template.identity.map { try templates.text($0, parameters, step: name) }
                    func shell(_ script: String?) throws -> String? {
                        try script.map { try templates.shell($0, parameters, step: name) }
                    }
                    resource = Resource(
                        name: name, role: role, template: template.name,
                        value: try ResourceValue.make(template: template, parameters: parameters, identity: identity, step: name),
                        shell: StepShell(check: try templates.shell(template.check, parameters, step: name), capture: try shell(template.capture),
                                         apply: try templates.shell(template.apply, parameters, step: name), undo: try shell(template.undo),
                                         requirement: template.requirement, inlineCheck: template.inlineCheck))
                } else {
                    guard let service = parameters["service"] as? IPVSService else {
                        throw PlaybookError.badParameter(step: name, parameter: "service", reason: "must name a service fact (item.service)")
                    }
                    resource = Resource(name: name, role: role, template: definition.template, value: .ipvsService(service), shell: nil)
                }
                // One resource, one step: two steps making the same thing would fight over it
                // and over its record.
                if let first = usedBy[resource.id] {
                    throw PlaybookError.duplicateResource(resource.id.description, first: first, second: name)
                }
                usedBy[resource.id] = name
                rendered.append(resource)
            }
        }
        return rendered
    }

    private func items(_ definition: StepDefinition, facts: any TemplateFacts) throws -> [Any?] {
        switch definition.forEach {
        case .none: return [nil]
        case let .values(values): return values
        case let .fact(name):
            guard let list = Self.lookup(name, in: facts) as? [Any] else {
                throw PlaybookError.unknownFact(step: definition.name, fact: name)
            }
            return list
        }
    }

    static func lookup(_ path: String, in facts: any MustacheParent) -> Any? {
        var current: Any? = facts
        for part in path.split(separator: ".") {
            current = (current as? any MustacheParent)?.child(named: String(part))
        }
        return current
    }

    /// `item.vip` for a value that is exactly `{{item.vip}}`; nil for anything else.
    static func reference(_ value: String) -> String? {
        guard value.hasPrefix("{{"), value.hasSuffix("}}") else { return nil }
        let path = value.dropFirst(2).dropLast(2)
        guard !path.isEmpty, path.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else { return nil }
        return String(path)
    }

    static func truthy(_ value: Any?) -> Bool {
        switch value {
        case nil: return false
        case let bool as Bool: return bool
        case let text as String: return !text.isEmpty
        case let list as [Any]: return !list.isEmpty
        default: return true
        }
    }
}

/// Mustache templates parsed once per render, keyed by their text.
struct CompiledTemplates {
    private var parsed: [String: MustacheTemplate] = [:]

    private static let registered: Bool = {
        MustacheContentTypes.register(ShellContentType(), named: "SHELL")
        return true
    }()

    /// Facts into text, no escaping: names and parameter values.
    mutating func text(_ template: String, _ context: Any, step: String) throws -> String {
        try compile("{{% CONTENT_TYPE: TEXT}}" + template, step: step).render(context)
    }

    /// Parameters into shell, every `{{value}}` quoted.
    mutating func shell(_ template: String, _ parameters: [String: Any], step: String) throws -> String {
        precondition(Self.registered)
        let rendered = try compile("{{% CONTENT_TYPE: SHELL}}" + template, step: step).render(parameters)
        return rendered.hasSuffix("\n") ? String(rendered.dropLast()) : rendered
    }

    private mutating func compile(_ text: String, step: String) throws -> MustacheTemplate {
        if let template = parsed[text] { return template }
        do {
            let template = try MustacheTemplate(string: text)
            parsed[text] = template
            return template
        } catch {
            throw PlaybookError.renderFailed(step: step, reason: "\(error)")
        }
    }
}

/// What one step renders with: the role's facts, and `item` while it goes through a list.
struct StepContext: MustacheParent {
    let facts: any TemplateFacts
    let item: Any?
    func child(named name: String) -> Any? { name == "item" ? item : facts.child(named: name) }
}
