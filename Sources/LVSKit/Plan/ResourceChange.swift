/// What happens to a resource: added, changed in place, removed (for a real server: drained,
/// then deleted), or found on the host and left alone because lvsctl did not make it.
public enum ChangeAction: String, Codable, Sendable, CaseIterable {
    case add = "+"
    case change = "~"
    case remove = "-"
    case leftAlone = "!"
}

/// One attribute's old and new value, in words (`weight 1 → 3`); either side may be absent.
public struct Difference: Codable, Sendable, Hashable {
    public var attribute: String
    public var from: String?
    public var to: String?

    public init(_ attribute: String, from: String? = nil, to: String? = nil) {
        self.attribute = attribute
        self.from = from
        self.to = to
    }

    public var text: String {
        let name = attribute.isEmpty ? "" : attribute + " "
        switch (from, to) {
        case let (from?, to?): return "\(name)\(from) → \(to)"
        case let (nil, to?): return "\(name)\(to)"
        case let (from?, nil): return "\(name)\(from) → (none)"
        case (nil, nil): return attribute
        }
    }
}

/// One line of a plan, and of what `up` did: `~ ipvs tcp 192.168.0.200:80  scheduler rr → wrr`.
public struct ResourceChange: Codable, Sendable, Hashable {
    public var action: ChangeAction
    /// The resource's identity (`sysctl net.ipv4.ip_forward`), or a destination within a
    /// service (`ipvs tcp 192.168.0.200:80 → 10.0.0.11:80`).
    public var resource: String
    public var differences: [Difference]
    /// Why, or how it went: `drifted`, `drained: 0 connections after 1.2 s`, `not created by lvsctl`.
    public var note: String?

    public init(_ action: ChangeAction, _ resource: String, _ differences: [Difference] = [], note: String? = nil) {
        self.action = action
        self.resource = resource
        self.differences = differences
        self.note = note
    }

    public var text: String {
        var line = "\(action.rawValue) \(resource)"
        let words = differences.map(\.text).joined(separator: ", ")
        if !words.isEmpty { line += "  " + words }
        if let note { line += "  (\(note))" }
        return line
    }
}
