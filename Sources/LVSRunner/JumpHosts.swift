import Foundation
import LVSKit
import SSHTransport

/// One connection per jump host (per route to it), shared by every host behind it for a run.
public actor JumpPool {
    private var connections: [String: Task<SSHConnection, Error>] = [:]

    public init() {}

    /// The connection to the last host of `route`, through the ones before it.
    public func connection(_ route: [InventoryHost], access: HostAccess) async throws -> SSHConnection {
        let key = route.map(\.name).joined(separator: " → ")
        if let existing = connections[key] { return try await existing.value }
        let task = Task<SSHConnection, Error> {
            let hop = route[route.count - 1]
            let (target, options) = access.connection(for: hop)
            do {
                if route.count == 1 { return try await SSHConnection.connect(to: target, options: options) }
                let previous = try await self.connection(Array(route.dropLast()), access: access)
                return try await SSHConnection.connect(to: target, options: options, through: previous)
            } catch let error as HopError {
                throw error
            } catch {
                throw HopError(hop: hop.name, through: route.dropLast().last?.name, underlying: "\(error)", jump: true)
            }
        }
        connections[key] = task
        return try await task.value
    }

    /// Closes every jump connection (the hosts behind them are closed first by their users).
    public func closeAll() async {
        let open = connections.values
        connections.removeAll()
        for task in open { if let connection = try? await task.value { await connection.close() } }
    }
}

/// A failure on the way to a host, naming the hop it happened at.
public struct HopError: Error, CustomStringConvertible, Sendable {
    public let hop: String
    public let through: String?
    public let underlying: String
    /// The hop was a jump host (else: the host itself, reached through `through`).
    public let jump: Bool

    public var description: String {
        let path = through.map { " (through \($0))" } ?? ""
        return jump ? "jump host \(hop)\(path): \(underlying)" : "through \(through ?? "?"): \(hop): \(underlying)"
    }
}

extension HostAccess {
    /// This access, knowing the inventory's hosts (for `jump:` names and ProxyJump aliases).
    public func knowing(_ inventory: Inventory) -> HostAccess {
        var access = self
        access.inventoryHosts = Dictionary(inventory.hosts.map { ($0.name, $0) }) { first, _ in first }
        return access
    }

    /// The jump hosts on the way to `host`, outermost first: its inventory `jump:` (and that
    /// host's own), else OpenSSH's ProxyJump from the SSH config (`bastion`, `user@host:port`,
    /// a comma-separated chain). Empty for a host reached directly.
    public func route(to host: InventoryHost) throws -> [InventoryHost] {
        var route: [InventoryHost] = []
        var current = host
        for _ in 0..<8 {
            let hops = try jumps(of: current)
            guard let last = hops.last else { return route }
            route.insert(contentsOf: hops, at: 0)
            if hops.count > 1 || route.contains(where: { $0.name == current.name }) { return route }
            current = last
        }
        throw HopError(hop: host.name, through: nil, underlying: "its jump hosts lead round in a circle", jump: false)
    }

    func jumps(of host: InventoryHost) throws -> [InventoryHost] {
        if let name = host.jump {
            guard let jump = inventoryHosts[name] else {
                throw HopError(hop: host.name, through: nil, underlying: "its jump host '\(name)' is not defined", jump: false)
            }
            return [jump]
        }
        let config = sshConfig.options(for: host.name).merging(sshConfig.options(for: host.address)) { first, _ in first }
        guard let spec = config["proxyjump"], spec.lowercased() != "none" else { return [] }
        return spec.split(separator: ",").map { Self.jumpHost(String($0).trimmingCharacters(in: .whitespaces), known: inventoryHosts) }
    }

    /// A ProxyJump element: an inventory host by name, else `[user@]host[:port]`.
    static func jumpHost(_ spec: String, known: [String: InventoryHost]) -> InventoryHost {
        if let host = known[spec] { return host }
        var rest = Substring(spec)
        var user: String?
        if let at = rest.lastIndex(of: "@") { user = String(rest[..<at]); rest = rest[rest.index(after: at)...] }
        var port: Int?
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            if let colon = rest[close...].firstIndex(of: ":") { port = Int(rest[rest.index(after: colon)...]) }
            rest = rest[rest.index(after: rest.startIndex)..<close]
        } else if let colon = rest.lastIndex(of: ":"), rest.filter({ $0 == ":" }).count == 1 {
            port = Int(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        return InventoryHost(name: spec, address: String(rest), port: port, user: user,
                             location: SourceLocation(file: "ProxyJump", line: 1, column: 1))
    }

    /// Connects to `host`, through its jump hosts if it has any; a failure names the hop.
    public func connect(_ host: InventoryHost) async throws -> SSHConnection {
        let (target, options) = connection(for: host)
        let route = try route(to: host)
        guard let last = route.last else { return try await SSHConnection.connect(to: target, options: options) }
        let jump = try await jumpPool.connection(route, access: self)
        do {
            return try await SSHConnection.connect(to: target, options: options, through: jump)
        } catch {
            throw HopError(hop: host.name, through: last.name, underlying: "\(error)", jump: false)
        }
    }

    /// `director → rs1`: how a host is reached, for `-v`.
    public func path(to host: InventoryHost) -> String? {
        guard let route = try? route(to: host), !route.isEmpty else { return nil }
        return (route.map(\.name) + [host.name]).joined(separator: " → ")
    }
}
