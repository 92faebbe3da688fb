/// The shell of one template resource, rendered from templates/ with its step's parameters.
public struct StepShell: Sendable, Equatable {
    public let check: String
    public let capture: String?
    public let apply: String
    public let undo: String?
    /// Checks a condition only (see `StepTemplate.requirement`).
    public var requirement = false
    /// The check runs in the conversation's shell, not a subshell (see `StepTemplate.inlineCheck`).
    public var inlineCheck = false

    /// The check as the host script runs it: in a subshell, or in braces for an inline one.
    public var checkGroup: String { inlineCheck ? "{ \(check)\n}" : "( \(check)\n)" }
}

/// One thing a host should have: its typed value (which gives its identity), the playbook step
/// that asked for it, and the shell that makes it so (none for an IPVS service: lvsctl's
/// ipvsadm grammar reconciles those).
public struct Resource: Sendable, Equatable {
    public let name: String
    public let role: Role
    public let template: String
    public let value: ResourceValue
    public let shell: StepShell?

    public var id: ResourceID { value.id }
}

/// A host's desired state: its roles and resources, in the order they are made.
public struct HostState: Sendable, Equatable {
    public let host: InventoryHost
    public let roles: [Role]
    public let resources: [Resource]

    public init(host: InventoryHost, roles: [Role], resources: [Resource]) {
        self.host = host
        self.roles = roles
        self.resources = resources
    }

    /// Resources made by templates (the host script checks and applies these itself).
    public var templateResources: [Resource] { resources.filter { $0.shell != nil } }

    /// The resources a director applies only after its IPVS changes and drains (by index):
    /// keepalived, whose reload removes a real server that left the inventory at once, so it
    /// must have drained first; and bird, which must announce the VIPs only once the table that
    /// answers them is made (a director joining would otherwise draw flows it refuses).
    public var afterDrains: Set<Int> { keepalived.union(bird) }

    /// The keepalived it runs (by index): on an empty table it starts in the director's first
    /// part, since it makes the table itself (and a pair's directors then start at once).
    public var keepalived: Set<Int> {
        Set(resources.indices.filter { if case .keepalived = resources[$0].value { return true }; return false })
    }

    /// The bird it runs (by index): an active-active director's.
    public var bird: Set<Int> {
        Set(resources.indices.filter { if case .bird = resources[$0].value { return true }; return false })
    }

    /// The IPVS services it should hold.
    public var ipvsServices: [IPVSService] {
        resources.compactMap { if case let .ipvsService(service) = $0.value { return service }; return nil }
    }
}
