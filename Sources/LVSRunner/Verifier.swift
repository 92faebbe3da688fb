import Foundation
import LVSKit
import SSHTransport

/// What `lvsctl verify` found for one virtual service.
public struct ServiceVerification: Codable, Sendable {
    public var service: String
    public var scheduler: String
    /// Answers per real-server host (and "none" for requests nobody known answered).
    public var counts: [String: Int]
    /// Real-server hosts in the order they answered.
    public var sequence: [String]
    public var verdicts: [Verdict]
}

public struct VerifyReport: Codable, Sendable {
    public var from: String
    /// The director whose table was read (with a keepalived pair, the one holding the VIP).
    public var director: String?
    public var services: [ServiceVerification]
    public var table: [Verdict]
    public var errors: [String]
    public var passed: Bool { errors.isEmpty && (services.flatMap(\.verdicts) + table).allSatisfy(\.passed) }

    /// What `lvsctl verify` prints.
    public func text(_ inventory: Inventory) -> String {
        var lines: [String] = []
        for service in services {
            lines.append("\(service.service)  scheduler \(service.scheduler)  (requests from \(from))")
            lines.append("    real server         answers")
            let asked = inventory.services.first { $0.address.description == service.service }
            for server in asked?.answeringServers ?? [] {
                let role = asked?.sorryServer?.host == server.host ? "sorry server" : "weight \(server.weight)"
                lines.append("    \(server.host.padding(toLength: 18, withPad: " ", startingAt: 0))  \(service.counts[server.host] ?? 0)   (\(server.rip), \(role))")
            }
            if let none = service.counts["none"], none > 0 { lines.append("    (no answer)         \(none)") }
            lines.append(service.sequence.isEmpty ? "    (no test pages: answers counted by the director's IPVS counters)"
                         : "    sequence: " + service.sequence.joined(separator: " "))
            for verdict in service.verdicts { lines.append(verdict.line) }
        }
        if inventory.isActiveActive, let director {
            lines.append("(IPVS tables read on \(director), active-active: their counters added)")
        } else if inventory.directors.count > 1, let director {
            lines.append("(IPVS table read on \(director), the director holding the VIP)")
        }
        for verdict in table { lines.append(verdict.line) }
        for error in errors { lines.append("ERROR  \(error)") }
        lines.append(passed ? "verify: PASSED" : "verify: FAILED")
        return lines.joined(separator: "\n")
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}

extension Verdict {
    /// `  PASS  every request answered: 12 of 12`
    public var line: String { "  \(passed ? "PASS" : "FAIL")  \(check): \(detail)" }
}

/// Sends requests to each VIP from a client and compares the director's IPVS table with the
/// inventory. IPVS does not balance connections that start on the director itself, so requests
/// come from the inventory's client host (or this machine with `from: nil`).
public struct Verifier: Sendable {
    public let access: HostAccess

    public init(access: HostAccess) { self.access = access }

    public func verify(_ inventory: Inventory, requests: Int, fromLocal: Bool) async -> VerifyReport {
        var report = VerifyReport(from: fromLocal ? "local" : inventory.client ?? "local", director: nil, services: [], table: [], errors: [])
        let services = VerifyRequests.verifiable(inventory)
        // With a keepalived pair, the director holding the VIP is the one clients reach; active-
        // active directors each take a share.
        let directors = inventory.isActiveActive ? inventory.directors.compactMap { inventory.host(named: $0.host) }
            : [await access.activeDirector(inventory).host].compactMap { $0 }
        let table = directors.isEmpty ? nil : DirectorTables(access: access, directors: directors)
        // The client's connection is made while the director's table is read.
        let clientHost = fromLocal ? nil : inventory.client.flatMap { inventory.host(named: $0) }
        async let clientConnection = clientHost.asyncMap { try await access.connect($0) }
        // IPVS's per-destination counters, before and after: the witness that needs no test page.
        let beforeEach = try? await table.asyncMap { try await $0.readEach() }
        let before = beforeEach.flatMap(IPVSTable.summingCounters)
        // keepalived decides which real servers are in the table: judge against what it holds.
        func held(_ service: VirtualService) -> VirtualService {
            inventory.usesKeepalived ? before.map { service.heldByKeepalived($0) } ?? service : service
        }
        let judged = services.map(held)
        report.director = directors.isEmpty ? nil : directors.map(\.name).joined(separator: ", ")
        var output = ""
        if fromLocal || inventory.client == nil {
            if !fromLocal { report.errors.append("the inventory names no client host: sending requests from this machine (use --from local to say so)") }
            output = await Self.runLocally(VerifyRequests.script(services, requests: requests, severalSources: false))
        } else if let client = clientHost {
            let script = VerifyRequests.script(services, requests: requests, severalSources: true)
            do {
                // clientHost is set exactly when this branch runs, so the connection is there.
                output = try await access.closing(try await clientConnection!) {
                    try await $0.run("/bin/sh -s", stdin: Array(script.utf8), timeout: access.commandTimeout).standardOutput
                }
            } catch { report.errors.append("client \(client.name): \(error)") }
        }
        let answers = VerifyRequests.parse(output)
        let answered = services.indices.map { index in answers.filter { $0.service == index && !$0.body.isEmpty }.count }
        let after = await settledCounters(table, before: before, services: services, answered: answered)
        await table?.close()
        for (index, asked) in services.enumerated() {
            let service = judged[index]
            let mine = answers.filter { $0.service == index }
            let counted = before.flatMap { before in after.map { Self.delta(service, mode: inventory.mode, before: before, after: $0) } }
            let pages = service.realServers.allSatisfy { inventory.servesTestPage($0.host) }
            var hosts: [String?]
            var verdicts: [Verdict]
            if pages {
                hosts = mine.map { DistributionJudge.identify($0.body, inventory: inventory, service: asked) }
                if Set(mine.map(\.source)) != ["-"] {
                    var bySource: [String: [String?]] = [:]
                    for (answer, host) in zip(mine, hosts) { bySource[answer.source, default: []].append(host) }
                    let oneNetwork = service.persistenceNetmask.map { prefix in Self.oneNetwork(Array(bySource.keys), prefix: prefix) } ?? false
                    let hashed = before.flatMap { Self.hashed(service, table: $0, sources: Array(bySource.keys)) }
                    verdicts = DistributionJudge.perSource(service, answers: bySource, oneNetwork: oneNetwork, hashed: hashed)
                } else {
                    verdicts = DistributionJudge.judge(service, answers: hosts, kernelOrder: before.map { Self.visited(service, table: $0).map(\.host) } ?? [])
                    if let before {
                        verdicts += DistributionJudge.upperThresholds(service, seen: hosts.compactMap { $0 }, held: Self.held(service, table: before))
                    }
                    if let predicted = before.flatMap({ Self.predicted(service, table: $0, count: hosts.count) }) {
                        verdicts.append(DistributionJudge.followsConnections(service, seen: hosts.compactMap { $0 }, predicted: predicted))
                    }
                }
                if let counted {
                    var pageCounts: [String: Int] = [:]
                    for host in hosts { pageCounts[host ?? "none", default: 0] += 1 }
                    verdicts.append(DistributionJudge.countersAgree(pages: pageCounts, counters: counted))
                }
            } else {
                // No test pages to tell the servers apart: IPVS's counters say who took how many.
                hosts = service.realServers.flatMap { Array(repeating: $0.host as String?, count: counted?[$0.host] ?? 0) }
                hosts += Array(repeating: nil, count: max(0, mine.count - answered[index]))
                verdicts = DistributionJudge.judge(service, answers: hosts, ordered: false)
                if counted == nil { report.errors.append("\(service.address): no test pages, and the director's counters could not be read") }
            }
            var counts: [String: Int] = Dictionary(service.realServers.map { ($0.host, 0) }) { a, _ in a }
            for host in hosts { counts[host ?? "none", default: 0] += 1 }
            report.services.append(ServiceVerification(
                service: service.address.description, scheduler: service.scheduler.rawValue, counts: counts,
                sequence: pages ? hosts.map { $0 ?? "none" } : [], verdicts: verdicts))
        }
        await access.jumpPool.closeAll()
        if let director = report.director {
            if let after {
                if let beforeEach, beforeEach.count > 1 {
                    report.table = TableJudge.sameOnEveryDirector(Array(zip(directors.map(\.name), beforeEach)))
                }
                report.table += TableJudge.judge(live: after, desired: inventory.services.map { DesiredCluster.ipvsService(held($0), mode: inventory.mode) })
            } else {
                report.errors.append("director \(director): its IPVS table could not be read")
            }
        }
        return report
    }

    /// lc, wlc, sed, nq: where the requests should have gone, from the connections each real
    /// server held before them, in the order the director lists them.
    static func predicted(_ service: VirtualService, table: IPVSTable, count: Int) -> [String]? {
        let servers = visited(service, table: table).map { server in
            let held = table.connections[service.key]?[server.endpoint]
            return ConnectionSchedulerModel.Server(host: server.host, weight: server.weight, active: held?.active ?? 0, inactive: held?.inactive ?? 0)
        }
        return ConnectionSchedulerModel.predict(service.scheduler, servers: servers, count: count)
    }

    /// The service's real servers in the director's table, in the order the kernel's scheduler
    /// visits them (which decides its ties), each with the weight the table holds.
    static func visited(_ service: VirtualService, table: IPVSTable) -> [RealServer] {
        kernelListed(service, table: table).compactMap { destination in
            guard var server = service.realServers.first(where: { $0.endpoint == destination.endpoint }) else { return nil }
            server.weight = destination.weight
            return server
        }
    }

    /// The service's destinations in the director's table, in the order the kernel lists them.
    static func kernelListed(_ service: VirtualService, table: IPVSTable) -> [IPVSDestination] {
        let order = table.kernelOrder[service.key] ?? []
        return (table.service(service.key)?.destinations ?? [])
            .sorted { (order.firstIndex(of: $0.endpoint) ?? .max) < (order.firstIndex(of: $1.endpoint) ?? .max) }
    }

    /// sh, mh: the real-server host the kernel's table sends each source to.
    static func hashed(_ service: VirtualService, table: IPVSTable, sources: [String]) -> [String: String]? {
        // Every destination the kernel lists takes part in its table, known to the inventory or not.
        let listed = kernelListed(service, table: table)
        let addresses = sources.compactMap { try? IPAddress.parse($0).get() }
        guard let chosen = SourceHashing.destinations(service.scheduler, listed: listed.map { ($0.endpoint, $0.weight) }, sources: addresses) else { return nil }
        var hosts: [String: String] = [:]
        for (source, endpoint) in chosen { hosts[source.description] = service.realServers.first { $0.endpoint == endpoint }?.host ?? endpoint.description }
        return hosts
    }

    /// Connections (active and inactive) each real server held, by host.
    static func held(_ service: VirtualService, table: IPVSTable) -> [String: Int] {
        let key = service.key
        var held: [String: Int] = [:]
        for server in service.realServers {
            let counts = table.connections[key]?[server.endpoint]
            held[server.host, default: 0] += (counts?.active ?? 0) + (counts?.inactive ?? 0)
        }
        return held
    }

    /// Whether every source lies in one network of the persistence netmask's prefix.
    static func oneNetwork(_ sources: [String], prefix: Int) -> Bool {
        let networks = Set(sources.compactMap { try? IPAddress.parse($0).get().network(prefix: prefix) })
        return networks.count == 1
    }

    /// The director's table once its counters include the requests just answered: IPVS sums them
    /// about every 2 s, so read until they do (at most ~4 s).
    func settledCounters(_ director: DirectorTables?, before: IPVSTable?, services: [VirtualService], answered: [Int]) async -> IPVSTable? {
        guard let director else { return nil }
        var table: IPVSTable?
        for attempt in 0..<9 {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(500)) }
            table = try? await director.read()
            guard let before, let table else { return table }
            let counted = services.map { service in
                (table.serviceStats[service.key]?.connections ?? 0)
                    - (before.serviceStats[service.key]?.connections ?? 0)
            }
            if zip(counted, answered).allSatisfy({ $0 >= $1 }) { break }
        }
        return table
    }

    /// New connections per real-server host between two readings of the director's counters.
    static func delta(_ service: VirtualService, mode: ForwardingMode, before: IPVSTable, after: IPVSTable) -> [String: Int] {
        let key = service.key
        var counts: [String: Int] = [:]
        for server in service.realServers {
            let now = after.destinationStats[key]?[server.endpoint]?.connections ?? 0
            counts[server.host, default: 0] += now - (before.destinationStats[key]?[server.endpoint]?.connections ?? 0)
        }
        return counts
    }

    /// The director's live table (with traffic counters when `stats`), read without a lock:
    /// reading changes nothing.
    public func readTable(on director: InventoryHost, stats: Bool) async throws -> IPVSTable {
        try await access.withConnection(to: director) { connection, _ in
            try await access.readIPVSTable(on: connection, director: director, stats: stats)
        }
    }

    /// Runs the requests' script in this machine's /bin/sh; an empty answer when it cannot start.
    static func runLocally(_ script: String) async -> String {
        (try? await LocalProgram.run("/bin/sh", ["-c", script]).output) ?? ""
    }

}

/// Every director's table whose counters verify adds: the one holding the VIP, or each
/// active-active director (each counts only the connections the routers sent it).
struct DirectorTables: Sendable {
    let readers: [DirectorTableReader]

    init(access: HostAccess, directors: [InventoryHost]) {
        readers = directors.map { DirectorTableReader(access: access, director: $0) }
    }

    /// Each director's table, in the order given, read side by side.
    func readEach() async throws -> [IPVSTable] {
        try await withThrowingTaskGroup(of: (Int, IPVSTable).self) { group in
            for (index, reader) in readers.enumerated() { group.addTask { (index, try await reader.read()) } }
            var tables = [IPVSTable?](repeating: nil, count: readers.count)
            for try await (index, table) in group { tables[index] = table }
            return tables.compactMap { $0 }
        }
    }

    /// The first director's rules with every director's counters.
    func read() async throws -> IPVSTable? { IPVSTable.summingCounters(try await readEach()) }

    func close() async {
        for reader in readers { await reader.close() }
    }
}

/// The director's table (with counters), read as often as verify needs over one connection:
/// under emulation a new SSH connection costs most of a second, and verify reads the table
/// before the requests and until its counters settle after them.
actor DirectorTableReader {
    let access: HostAccess
    let director: InventoryHost
    private var connection: SSHConnection?

    init(access: HostAccess, director: InventoryHost) {
        self.access = access
        self.director = director
    }

    func read() async throws -> IPVSTable { try await read(askingWhetherItHolds: nil).table }

    /// The table, and whether the director holds `vip` (nil when not asked), as
    /// `KeepalivedState` reads it.
    func read(askingWhetherItHolds vip: IPAddress?) async throws -> (table: IPVSTable, holds: Bool?) {
        let connection: SSHConnection
        if let open = self.connection {
            connection = open
        } else {
            connection = try await access.connect(director)
            self.connection = connection
        }
        do {
            let table = try await access.readIPVSTable(on: connection, director: director, stats: true)
            guard let vip else { return (table, nil) }
            let answer = try await connection.run(KeepalivedState.holdsVIPScript(vip: vip)).standardOutput
            return (table, KeepalivedState.parse(answer, host: director.name).holdsVIP)
        } catch {
            // A broken connection is made again by the next reading.
            await close()
            throw error
        }
    }

    func close() async {
        await connection?.close()
        connection = nil
    }
}
