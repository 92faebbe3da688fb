import Foundation
import Mustache

/// One step, ready to run on one host.
public struct RenderedStep: Sendable, Equatable {
    /// Stable and unique per host (`director/ipv4-forwarding-on`): where `up` keeps what
    /// `capture` saw, so `down` can find it again.
    public let id: String
    public let name: String
    public let role: Role
    public let template: String
    public let check: String
    public let capture: String?
    public let apply: String
    public let undo: String?
}

/// What one host runs, in order.
public struct HostPlan: Sendable, Equatable {
    public let host: InventoryHost
    public let roles: [Role]
    public let steps: [RenderedStep]
}

/// Renders playbooks for an inventory: facts into step parameters (plain text), parameters into
/// template shell (shell-quoted by default).
public struct Renderer: Sendable {
    public let library: PlaybookLibrary

    public init(library: PlaybookLibrary) { self.library = library }

    /// Every host of the cluster with its steps: the director, then the real servers in order.
    public func render(_ inventory: Inventory) throws -> [HostPlan] {
        var plans: [HostPlan] = []
        // Every host renders the same few templates: parse each once (parsing was ~40% of
        // rendering 100 hosts), not once per host and item.
        var templates = CompiledTemplates()
        if let director = inventory.host(named: inventory.director.host) {
            plans.append(HostPlan(host: director, roles: [.director],
                                  steps: try steps(for: .director, facts: Facts.director(inventory), mode: inventory.mode, &templates)))
        }
        for name in inventory.realServerHosts {
            guard let host = inventory.host(named: name) else { continue }
            plans.append(HostPlan(host: host, roles: [.realServer],
                                  steps: try steps(for: .realServer, facts: Facts.realServer(inventory, host: name),
                                                   mode: inventory.mode, &templates)))
        }
        return plans
    }

    func steps(for role: Role, facts: [String: Any], mode: ForwardingMode,
               _ templates: inout CompiledTemplates) throws -> [RenderedStep] {
        guard let playbook = library.playbooks[role] else { return [] }
        var rendered: [RenderedStep] = []
        var usedIDs: Set<String> = []
        for definition in playbook.steps {
            if let modes = definition.modes, !modes.contains(mode) { continue }
            if let condition = definition.when, !Self.truthy(Self.lookup(condition, in: facts)) { continue }
            guard let template = library.templates[definition.template] else {
                throw PlaybookError.unknownTemplate(step: definition.name, template: definition.template, known: library.templates.keys.sorted())
            }
            for parameter in template.params where !definition.with.contains(where: { $0.0 == parameter }) {
                throw PlaybookError.missingParameter(step: definition.name, template: template.name, parameter: parameter)
            }
            for item in try items(definition, facts: facts) {
                var context = facts
                if let item { context["item"] = item }
                let name = try templates.text(definition.name, context, step: definition.name)
                var parameters: [String: Any] = [:]
                for (key, value) in definition.with {
                    if !value.contains("{{"), let list = Self.lookup(value, in: context) as? [Any] {
                        parameters[key] = list
                    } else {
                        let text = try templates.text(value, context, step: name)
                        if !text.isEmpty { parameters[key] = text }   // empty means absent: `{{#x}}` skips it
                    }
                }
                var id = "\(role.rawValue)/\(Self.slug(name))"
                var suffix = 2
                while usedIDs.contains(id) { id = "\(role.rawValue)/\(Self.slug(name))-\(suffix)"; suffix += 1 }
                usedIDs.insert(id)
                func shell(_ script: String?) throws -> String? {
                    try script.map { try templates.shell($0, parameters, step: name) }
                }
                rendered.append(RenderedStep(
                    id: id, name: name, role: role, template: template.name,
                    check: try templates.shell(template.check, parameters, step: name),
                    capture: try shell(template.capture),
                    apply: try templates.shell(template.apply, parameters, step: name),
                    undo: try shell(template.undo)))
            }
        }
        return rendered
    }

    private func items(_ definition: StepDefinition, facts: [String: Any]) throws -> [Any?] {
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

    static func lookup(_ path: String, in facts: [String: Any]) -> Any? {
        var current: Any? = facts
        for part in path.split(separator: ".") {
            current = (current as? [String: Any])?[String(part)]
        }
        return current
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

    static func slug(_ text: String) -> String {
        var slug = ""
        for character in text.lowercased() {
            if character.isLetter || character.isNumber, character.isASCII { slug.append(character) }
            else if !slug.hasSuffix("-") { slug.append("-") }
        }
        return slug.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
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
    mutating func text(_ template: String, _ context: [String: Any], step: String) throws -> String {
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
