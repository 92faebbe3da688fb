import Foundation

/// A host of the cluster and how lvsctl reached it, as every host's record keeps it
/// (`/var/lib/lvsctl/cluster`, one JSON line each): a host the inventory stops naming is still
/// found there, by `up` (which restores it) and by `down`.
public struct ClusterMember: Codable, Sendable, Equatable {
    public var name: String
    public var address: String
    public var port: Int?
    public var user: String?
    public var identity: String?
    public var jump: String?
    public var become: String?

    public init(_ host: InventoryHost) {
        name = host.name
        address = host.address
        port = host.port
        user = host.user
        identity = host.identityFile
        jump = host.jump
        become = host.become?.rawValue
    }

    /// The host as an inventory entry (located in the record it came from).
    public func host(recordedOn recorder: String) -> InventoryHost {
        InventoryHost(name: name, address: address, port: port, user: user, identityFile: identity, jump: jump,
                      become: become.flatMap(Become.init(rawValue:)),
                      location: SourceLocation(file: "\(recorder):\(HostScript.stateDirectory)/cluster", line: 1, column: 1))
    }

    /// One line of JSON (keys sorted, so the same cluster writes the same file).
    public var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public init?(line: String) {
        guard let member = try? JSONDecoder().decode(ClusterMember.self, from: Data(line.utf8)) else { return nil }
        self = member
    }
}
