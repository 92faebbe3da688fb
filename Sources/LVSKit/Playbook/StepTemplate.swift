import Yams

/// The typed resources lvsctl knows, as a template declares the one it makes (`resource:
/// address`): its identity and wanted value then come from Swift types. A template without one
/// makes a resource of its own, named by its `identity`.
public enum ResourceKind: String, Sendable, Equatable, CaseIterable {
    case sysctl, address, module, package, file, keepalived, bird
    case hostRoute = "host-route", defaultRoute = "default-route", linkUp = "link-up", webServer = "web-server"
    case firewallRule = "firewall-rule", firewallFlush = "firewall-flush", selinuxPermissive = "selinux-permissive"
    case ipvsTimeouts = "ipvs-timeouts", nodeExporter = "node-exporter"
}

/// The shell of one kind of step (a file in templates/): check, capture, apply, undo.
public struct StepTemplate: Sendable, Equatable {
    public let name: String
    /// The typed resource it makes; nil for a template's own kind (see `identity`).
    public let resource: ResourceKind?
    public let params: [String]
    /// What a step's resource is, from its parameters (`nginx-site {{name}}`): needed by
    /// templates lvsctl does not know; the built-in ones have typed identities.
    public let identity: String?
    public let check: String
    public let capture: String?
    public let apply: String
    public let undo: String?
    /// A condition the host must meet, not a change: `apply` only says why it is not met (and
    /// fails), so `plan` refuses the host as `up` would.
    public let requirement: Bool
    /// The check runs in lvsctl's shell itself rather than in a subshell of its own (a process
    /// each): for checks made of shell builtins and lvsctl's helpers, that a host runs by the
    /// hundred (a real server's ports). Such a check must not `exit` or set variables.
    public let inlineCheck: Bool

    public static func parse(_ text: String, name: String) throws -> StepTemplate {
        guard let node = try Yams.compose(yaml: text), let map = node.mapping else {
            throw PlaybookError.malformed(file: "templates/\(name).yml", reason: "must be a mapping with check and apply")
        }
        func field(_ key: String) -> String? { map[Node(key)]?.scalar?.string }
        guard let check = field("check"), let apply = field("apply") else {
            throw PlaybookError.malformed(file: "templates/\(name).yml", reason: "needs both 'check' and 'apply'")
        }
        let params = map[Node("params")]?.sequence?.compactMap { $0.scalar?.string } ?? []
        let requirement = map[Node("requirement")]?.scalar?.string == "true"
        var resource: ResourceKind?
        if let declared = field("resource") {
            guard let kind = ResourceKind(rawValue: declared) else {
                throw PlaybookError.malformed(file: "templates/\(name).yml", reason: "resource '\(declared)' is not one lvsctl knows "
                    + "(\(ResourceKind.allCases.map(\.rawValue).joined(separator: ", "))): leave it out and give an 'identity' for a kind of your own")
            }
            resource = kind
        }
        if requirement, field("capture") != nil || field("undo") != nil {
            throw PlaybookError.malformed(file: "templates/\(name).yml", reason: "a requirement changes nothing: it has no capture and no undo")
        }
        return StepTemplate(name: name, resource: resource, params: params, identity: field("identity"), check: check, capture: field("capture"),
                            apply: apply, undo: field("undo"), requirement: requirement, inlineCheck: field("inline_check") == "true")
    }
}

/// What can be wrong in playbooks and templates (data written by people, so also explained).
public enum PlaybookError: Error, Equatable, CustomStringConvertible {
    case malformed(file: String, reason: String)
    case unknownTemplate(step: String, template: String, known: [String])
    case missingParameter(step: String, template: String, parameter: String)
    case unknownFact(step: String, fact: String)
    case renderFailed(step: String, reason: String)
    case badParameter(step: String, parameter: String, reason: String)
    case noIdentity(template: String)
    case duplicateResource(String, first: String, second: String)
    case noPlaybooks(searched: [String])

    public var description: String {
        switch self {
        case let .malformed(file, reason): return "\(file): \(reason)"
        case let .unknownTemplate(step, template, known):
            return "step '\(step)' uses template '\(template)', which is not in templates/ (there are: \(known.joined(separator: ", ")))"
        case let .missingParameter(step, template, parameter):
            return "step '\(step)' does not give parameter '\(parameter)' that template '\(template)' needs (add it under 'with:')"
        case let .unknownFact(step, fact):
            return "step '\(step)' iterates over '\(fact)', which is not a list fact of its role (see playbooks/README.md)"
        case let .renderFailed(step, reason): return "step '\(step)' cannot be rendered: \(reason)"
        case let .badParameter(step, parameter, reason): return "step '\(step)': parameter '\(parameter)' \(reason)"
        case let .noIdentity(template):
            return "template '\(template)' has no 'identity:': say what its resource is from its parameters (e.g. identity: \"nginx-site {{name}}\"), so lvsctl can record and undo it"
        case let .duplicateResource(resource, first, second):
            return "steps '\(first)' and '\(second)' both make \(resource): one resource, one step (remove one, or make them differ)"
        case let .noPlaybooks(searched):
            return "cannot find lvsctl's playbooks/ and templates/ folders (looked in \(searched.joined(separator: ", "))); pass --data DIR or set LVSCTL_DATA"
        }
    }
}
