import LVSKit

/// Connections to the first real servers a verb works on after its directors, opened while the
/// directors connect and take the cluster's lock: a host's handshake (tens of milliseconds, a
/// few hundred on an emulated host) then overlaps the directors' instead of following it.
/// Nothing is sent to a host before the directors hold their locks: opening a connection
/// changes nothing there. As many as `forEach` starts at once, so a wide cluster holds no more
/// connections than it would anyway.
struct EarlyConnections: Sendable {
    private let connecting: [String: Task<HostWork, Never>]

    init(_ states: some Sequence<HostState>, access: HostAccess) {
        var connecting: [String: Task<HostWork, Never>] = [:]
        for state in states where connecting[state.host.name] == nil {
            connecting[state.host.name] = Task { await HostWork.connect(state, access: access) }
        }
        self.connecting = connecting
    }

    /// The host's connection: the early one, else one made now.
    func connection(_ state: HostState, access: HostAccess) async -> HostWork {
        if let early = connecting[state.host.name] { return await early.value }
        return await HostWork.connect(state, access: access)
    }

    /// Closes every early connection: the run stopped before using them.
    func closeAll() async {
        for task in connecting.values {
            var work = await task.value
            await work.close()
        }
    }
}
