import LVSTestSupport
import Testing
@testable import LVSKit

/// Reconcile, drain and the scheduler bridge run against the in-memory IPVS twin: what the
/// director ends up holding, not only which commands were sent. (The VM proves the kernel does
/// what the twin does; these prove lvsctl's logic on every case in milliseconds.)
struct IPVSTwinTests {
    static let key = IPVSServiceKey.tcp(try! IPAddress.parse(ReconcileTests.vip).get(), port: 80)

    /// Live table → up's changes and drain on the twin → the twin holds exactly the desired
    /// services, each service that stays is the one that was there (same `-A`, same counter),
    /// no bridge is left, nothing was cut, and a second reconcile changes nothing.
    @Test(arguments: ReconcileTests.cases)
    func reconcileConvergesTheTwin(_ c: ReconcileTests.Case) async throws {
        let twin = try IPVSTwin(save: c.live)
        let generation = twin.generation(Self.key)
        let stays = c.desired.contains { $0.key == Self.key }
        // A connection the change must not cut (a service that leaves is deleted, entries and all).
        if stays { twin.open(Self.key, ep("10.0.0.12:80"), inactive: 1) }
        try await Self.up(twin, desired: c.desired, records: c.records)
        #expect(Self.normalized(twin.table.services) == Self.normalized(c.desired), "\(twin.save)")
        if stays && generation != nil {
            #expect(twin.generation(Self.key) == generation, "the service was deleted and made again")
            #expect(twin.connectionCount(Self.key) == 1, "the service's counter did not live on")
        }
        #expect(twin.deletedWithConnections == 0)
        // The record of a service deleted is undone in the same run on the host.
        let records = c.records.filter { record in twin.table.services.contains { $0.key.resourceID.recordKey == record.key } }
        #expect(HostDiff.ipvs(desired: c.desired, live: twin.table, records: records).steps.isEmpty, "a second up would change: \(twin.save)")
    }

    /// A leaving real server keeps its connections until they end: weight 0 at once, deleted only
    /// when idle; the verdict says so.
    @Test func leavingRealServerDrainsBeforeItIsDeleted() async throws {
        let twin = try IPVSTwin(save: ReconcileTests.rr2)
        twin.open(Self.key, ep("10.0.0.11:80"), active: 2, inactive: 1)
        twin.ticksPerCount = 1
        let verdicts = try await Self.up(twin, desired: ReconcileTests.desired(servers: "[rs2]"))
        #expect(verdicts.count == 1)
        guard case .drained = verdicts.first else { Issue.record("verdict \(verdicts)"); return }
        #expect(twin.deletedWithConnections == 0)
        #expect(twin.table.service(Self.key)?.destinations.map(\.endpoint) == [ep("10.0.0.12:80")])
        // While it drained, it was kept at weight 0 (taking nothing new), not removed.
        #expect(twin.commands.contains(["-e", "-t", "192.168.0.200:80", "-r", "10.0.0.11:80", "-g", "-w", "0"]))
    }

    /// Connections that never end: deleted when the drain times out, and the verdict counts them.
    @Test func drainThatTimesOutIsDeletedAndSaysWhatItCut() async throws {
        let twin = try IPVSTwin(save: ReconcileTests.rr2)
        twin.open(Self.key, ep("10.0.0.11:80"), active: 3)
        let verdicts = try await Self.up(twin, desired: ReconcileTests.desired(servers: "[rs2]"), timeout: .milliseconds(30))
        guard case let .timedOut(_, remaining) = verdicts.first else { Issue.record("verdict \(verdicts)"); return }
        #expect(remaining == IPVSConnectionCounts(active: 3, inactive: 0))
        #expect(verdicts.first?.description.hasSuffix("with 3 active and 0 inactive connections; deleted") == true)
        #expect(twin.deletedWithConnections == 1)
    }

    /// A scheduler change: the bridge (a fwmark service with the new scheduler and the same real
    /// servers) takes new connections while the real service is edited; it lives until the
    /// connections it took end, then goes.
    @Test func schedulerChangeBridgesThenEndsTheBridge() async throws {
        let twin = try IPVSTwin(save: ReconcileTests.rr2)
        let desired = ReconcileTests.desired("scheduler: wrr")
        let (steps, _) = HostDiff.ipvs(desired: desired, live: twin.table, records: ReconcileTests.recorded)
        let bridge = try #require(steps.first?.change.bridge)
        var director = twin
        let applied = await director.apply(steps, endingBridges: [])
        #expect(applied.map { $0?.status } == [.done])
        #expect(twin.table.service(bridge.service.key)?.scheduler == "wrr")
        #expect(twin.table.service(Self.key)?.scheduler == "wrr")
        twin.open(bridge.service.key, ep("10.0.0.11:80"), active: 1)
        twin.ticksPerCount = 1
        let drain = GracefulTermination(steps, poll: .milliseconds(1), timeout: .seconds(5))
        #expect(drain.items == [.bridge(bridge)])
        let (verdicts, _) = await drain.run(on: &director, first: nil)
        guard case .drained = verdicts.first else { Issue.record("verdict \(verdicts)"); return }
        #expect(twin.table.service(bridge.service.key) == nil)
        #expect(twin.generation(Self.key) == 1)
    }

    /// What lvsctl relies on of the kernel, in the twin: `-a` inserts at the head (restoring a
    /// saved table reverses its real servers), and the kernel's refusals.
    /// Whatever the table holds, the director's read of it (/proc/net/ip_vs and the thresholds
    /// listing) is what `-S -n` and the thresholds listing gave, in `-S`'s order: the same mark
    /// in both families, every method, persistence, flags, thresholds, weight 0.
    @Test func kernelListingReadsAsTheSaveListing() throws {
        let twin = try IPVSTwin(save: """
            -A -f 8 -6 -s rr
            -a -f 8 -6 -r [fd00::12]:0 -g -w 2
            -a -f 8 -6 -r [fd00::11]:0 -g -w 1
            -A -f 8 -s sh -p 60 -b sh-port
            -a -f 8 -r 10.0.0.12:0 -i -w 1
            -A -u [fd00::200]:53 -s mh -b mh-port
            -a -u [fd00::200]:53 -r [fd00::11]:53 -m -w 0
            -A -t 192.168.0.200:80 -s wrr -p 300 -M 255.255.255.0
            -a -t 192.168.0.200:80 -r 10.0.0.12:8080 -m -w 3 -x 100 -y 20
            -a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 1
            -A --sctp-service 192.168.0.200:9 -s lc
            """)
        let read = IPVSAdm.table(kernel: twin.kernelListing, thresholds: twin.thresholds())
        var expected = twin.table
        expected.services = expected.services.map { service in
            var sorted = service
            sorted.destinations.sort { $0.endpoint < $1.endpoint }
            return sorted
        }
        expected.services = [3, 4, 2, 1, 0].map { expected.services[$0] }
        #expect(read == expected)
        #expect(read.service(.fwmark(8, .v6))?.destinations.map(\.weight) == [1, 2])
    }

    @Test func twinBehavesAsTheKernel() throws {
        let twin = try IPVSTwin(save: ReconcileTests.rr2)
        #expect(twin.table.kernelOrder[Self.key] == [ep("10.0.0.12:80"), ep("10.0.0.11:80")])
        try twin.run(IPVSAdm.addDestination(IPVSDestination(address: try IPAddress.parse("10.0.0.13").get(), port: 80, method: .directRouting, weight: 1), to: Self.key))
        #expect(twin.table.kernelOrder[Self.key] == [ep("10.0.0.13:80"), ep("10.0.0.12:80"), ep("10.0.0.11:80")])
        #expect(throws: IPVSTwin.Failure.self) { try twin.run(["-A", "-t", "192.168.0.200:80", "-s", "rr"]) }
        #expect(throws: IPVSTwin.Failure.self) { try twin.run(["-e", "-t", "192.168.0.200:80", "-r", "10.0.0.99:80", "-g", "-w", "1"]) }
        #expect(throws: IPVSTwin.Failure.self) { try twin.run(["-E", "-t", "192.168.0.200:80", "-s", "twos"]) }
        #expect(throws: IPVSTwin.Failure.self) { try twin.run(["-D", "-t", "192.168.0.201:80"]) }
        // Weight 0 keeps the destination; -E keeps the destinations.
        try twin.run(["-e", "-t", "192.168.0.200:80", "-r", "10.0.0.11:80", "-g", "-w", "0"])
        try twin.run(["-E", "-t", "192.168.0.200:80", "-s", "wrr"])
        #expect(twin.table.service(Self.key)?.destinations.count == 3)
        #expect(twin.table.service(Self.key)?.destination(ep("10.0.0.11:80"))?.weight == 0)
    }

    /// Active-active: a director added later (or one that lost its table) makes the service in
    /// the order its peer lists it, so both fill the same Maglev table; the peer, meanwhile, gets
    /// the new real server at its head like the newcomer. Without the peer's order the newcomer
    /// would list them otherwise.
    @Test func directorAddedLaterListsTheRealServersAsItsPeer() async throws {
        let desired = ReconcileTests.desired(servers: "[rs1, rs3, rs2]")
        let peer = try IPVSTwin(save: ReconcileTests.rr2)
        let newcomer = IPVSTwin(), alone = IPVSTwin()
        let tables = [peer.table]   // as every director answered before any changed
        let peerOrder: (IPVSServiceKey) -> [Endpoint]? = { key in tables.lazy.compactMap { $0.kernelOrder(of: key) }.first }
        for (twin, order) in [(peer, peerOrder), (newcomer, peerOrder), (alone, { _ in nil })] {
            let plan = IPVSPlan(desired: desired, live: twin.table, records: twin === peer ? ReconcileTests.recorded : [], peerOrder: order)
            let applied = await twin.apply(plan.steps, endingBridges: [])
            try #require(applied.allSatisfy { $0?.status == .done }, "\(applied)")
        }
        let expected = [ep("10.0.0.13:80"), ep("10.0.0.12:80"), ep("10.0.0.11:80")]
        #expect(peer.table.kernelOrder[Self.key] == expected)
        #expect(newcomer.table.kernelOrder[Self.key] == expected)
        #expect(alone.table.kernelOrder[Self.key] == [ep("10.0.0.12:80"), ep("10.0.0.13:80"), ep("10.0.0.11:80")])
    }

    // MARK: - Helpers

    /// `up`'s IPVS part on the twin: the changes, then the drain; the drain's verdicts.
    @discardableResult
    static func up(_ twin: IPVSTwin, desired: [IPVSService], records: [HostOutput.Record] = ReconcileTests.recorded,
                   timeout: Duration = .seconds(60)) async throws -> [GracefulTermination.Verdict] {
        let (steps, _) = HostDiff.ipvs(desired: desired, live: twin.table, records: records)
        var director = twin
        let applied = await director.apply(steps, endingBridges: [])
        try #require(applied.allSatisfy { $0?.status == .done }, "\(applied)")
        let drain = GracefulTermination(steps, poll: .milliseconds(1), timeout: timeout)
        let (verdicts, deleted) = await drain.run(on: &director, first: nil)
        try #require(deleted.allSatisfy { $0?.status == .done }, "\(deleted)")
        return verdicts
    }

    /// Services by key, destinations by address: what the table holds, whatever the order.
    static func normalized(_ services: [IPVSService]) -> [IPVSService] {
        services.map { service in
            var service = service
            service.destinations.sort { $0.endpoint < $1.endpoint }
            return service
        }.sorted { $0.key.description < $1.key.description }
    }
}
