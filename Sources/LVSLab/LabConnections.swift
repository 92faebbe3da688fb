import Foundation
import LVSKit
import LVSRunner
import SSHTransport

/// The lab's own connections to its hosts (for `VMLab.run` and the snapshots), kept open from one
/// command to the next: under emulation a new SSH connection costs 1.3–2.8 s of the VM's CPU
/// (two for a real server, through the director), a command on an open one 0.16–0.3 s, and the
/// tests poll hosts many times a second. lvsctl's own runs connect as a user's would, each time.
public actor LabConnections {
    private var open: [String: Task<SSHConnection, Error>] = [:]
    /// One access for the whole pool: its jump pool keeps the one connection to the director
    /// that every real server is reached through.
    private var access: HostAccess?
    /// Connections given up after a failure, closed with the rest at the end (another command
    /// may still be using one).
    private var retired: [Task<SSHConnection, Error>] = []

    public init() {}

    func connection(to host: InventoryHost, access make: @autoclosure () -> HostAccess) async throws -> SSHConnection {
        if let existing = open[host.name] { return try await existing.value }
        let access = self.access ?? make()
        self.access = access
        let task = Task { try await access.connect(host) }
        open[host.name] = task
        return try await task.value
    }

    /// After a command failed: the connection (and, as the path to the real servers may be the
    /// broken part, every other one and the jump to the director) is made anew next time.
    func reset() async {
        retired += open.values
        open.removeAll()
        if let access { await access.jumpPool.closeAll() }
        access = nil
    }

    public func closeAll() async {
        let all = retired + open.values
        open.removeAll()
        retired.removeAll()
        for task in all { if let connection = try? await task.value { await connection.close() } }
        if let access { await access.jumpPool.closeAll() }
        access = nil
    }
}
