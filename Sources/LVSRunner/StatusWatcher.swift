import Foundation
import LVSKit
import SSHTransport

/// `lvsctl status --watch`: every director read over one connection kept for the whole watch
/// (a connection costs a key exchange; a reading, one command). A director that goes away is
/// reported as such and connected to again at the next reading.
public actor StatusWatcher {
    let access: HostAccess
    let inventory: Inventory
    let readers: [DirectorTableReader]
    /// With VRRP, the VIP whose holder is the active director (as `KeepalivedState` asks).
    let vip: IPAddress?
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant

    /// `patience`: how long a reading (or a connection) may take before its director is shown as
    /// not answering, so that one director gone silent (its links down) does not stop the view.
    public init(access: HostAccess, inventory: Inventory, patience: Duration = .seconds(3)) {
        var access = access
        access.commandTimeout = patience
        access.connectTimeout = min(access.connectTimeout, patience)
        access.handshakeTimeout = min(access.handshakeTimeout, patience * 3)
        self.access = access
        self.inventory = inventory
        readers = inventory.directors.compactMap { director in
            inventory.host(named: director.host).map { DirectorTableReader(access: access, director: $0) }
        }
        vip = inventory.vipsHeldByVRRP ? inventory.services.first?.vip : nil
        start = clock.now
    }

    /// Every director's table, read at once; with VRRP, whether each holds a VIP.
    public func sample() async -> [WatchSample] {
        let vip = self.vip, start = self.start, clock = self.clock
        return await withTaskGroup(of: (Int, WatchSample).self) { group in
            for (index, reader) in readers.enumerated() {
                group.addTask {
                    let name = reader.director.name
                    do {
                        let (table, holds) = try await reader.read(askingWhetherItHolds: vip)
                        return (index, WatchSample(director: name, time: (clock.now - start).seconds, table: table, holdsVIP: holds))
                    } catch {
                        return (index, WatchSample(director: name, time: (clock.now - start).seconds, error: "\(error)"))
                    }
                }
            }
            var samples: [(Int, WatchSample)] = []
            for await sample in group { samples.append(sample) }
            return samples.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    public func close() async {
        for reader in readers { await reader.close() }
        await access.jumpPool.closeAll()
    }
}
