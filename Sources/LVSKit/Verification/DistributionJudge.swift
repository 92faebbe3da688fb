/// What a verdict checks, for programs and tests (the `check` text is for people).
public enum VerdictKind: String, Codable, Sendable {
    case everyRequestAnswered = "every-request-answered"
    case weightZeroIdle = "weight-zero-idle"
    case everyServerAnswers = "every-server-answers"
    case cyclesInOrder = "cycles-in-order"
    case followsWeights = "follows-weights"
    case sameServer = "same-server"
    case highestWeightOnly = "highest-weight-only"
    case tableMatches = "table-matches"
    case sameOnEveryDirector = "same-on-every-director"
    case sharesFollowWeights = "shares-follow-weights"
    case countersAgree = "counters-agree"
    case followsConnections = "follows-connections"
    case sourcesSpread = "sources-spread"
    case followsHash = "follows-hash"
    case upperThreshold = "upper-threshold"
}

/// One verdict of `lvsctl verify`.
public struct Verdict: Codable, Sendable, Equatable {
    public var kind: VerdictKind
    public var check: String
    public var passed: Bool
    public var detail: String

    public init(_ kind: VerdictKind, check: String, passed: Bool, detail: String) {
        self.kind = kind
        self.check = check
        self.passed = passed
        self.detail = detail
    }
}

/// Judges which real servers answered a sequence of requests from one client, against what the
/// service's scheduler promises.
public enum DistributionJudge {
    /// No request went out (the client could not run them): nothing was proven, so nothing passes.
    static let nothingSent = Verdict(.everyRequestAnswered, check: "every request answered", passed: false,
                                     detail: "no request was sent (see the errors below)")

    /// `answers`: the real-server host that answered each request, or nil for no/unknown answer;
    /// in request order when `ordered` (told by test pages), else only counted (told by IPVS's
    /// per-destination counters), where an order cannot be judged but shares can. `kernelOrder`:
    /// the real-server hosts in the order the director's kernel visits them (`ipvsadm -Ln
    /// --nosort`), which decides `fo`'s and `ovf`'s ties; empty when unknown.
    public static func judge(_ service: VirtualService, answers: [String?], ordered: Bool = true, kernelOrder: [String] = []) -> [Verdict] {
        guard !answers.isEmpty else { return [nothingSent] }
        var verdicts: [Verdict] = []
        let weighted = service.realServers.filter { $0.weight > 0 }.map(\.host)
        let idle = service.realServers.filter { $0.weight == 0 }.map(\.host)
        let unanswered = answers.filter { $0 == nil }.count
        verdicts.append(Verdict(.everyRequestAnswered, check: "every request answered", passed: unanswered == 0,
                                detail: unanswered == 0 ? "\(answers.count) of \(answers.count)" : "\(unanswered) of \(answers.count) got no answer from a known real server"))
        let seen = answers.compactMap { $0 }
        if !idle.isEmpty {
            let leaked = seen.filter(idle.contains)
            verdicts.append(Verdict(.weightZeroIdle, check: "weight 0 receives nothing", passed: leaked.isEmpty,
                                    detail: leaked.isEmpty ? "\(idle.joined(separator: ", ")) got 0" : "\(Set(leaked).sorted().joined(separator: ", ")) answered \(leaked.count) times"))
        }
        guard !seen.isEmpty else { return verdicts }
        // A server at its upper threshold is skipped by every scheduler: its share is judged by
        // `upperThresholds` instead of the scheduler's order.
        if service.realServers.contains(where: { $0.upperThreshold > 0 }) { return verdicts }

        if service.spreadsOneClient {
            verdicts.append(portsSpread(service, seen))
            return verdicts
        }
        if service.persistence != nil || [.sh, .mh].contains(service.scheduler) {
            let name = service.persistence != nil ? "persistence keeps one client on one server" : "\(service.scheduler.rawValue): one client always reaches the same server"
            verdicts.append(sameServer(name, seen))
            return verdicts
        }
        switch service.scheduler {
        case .rr:
            verdicts.append(everyServerAnswers(weighted, seen))
            verdicts.append(ordered ? cycles(seen, period: weighted.count) : shares(service, seen, equal: true))
        case .wrr:
            verdicts.append(everyServerAnswers(weighted, seen))
            verdicts.append(ordered ? proportional(service, seen) : shares(service, seen, equal: false))
        case .dh, .lblc, .lblcr:
            verdicts.append(sameServer("\(service.scheduler.rawValue): one destination goes to one server", seen))
        case .fo, .ovf:
            verdicts.append(highestWeightOnly(service, seen, kernelOrder: kernelOrder))
        case .lc, .wlc, .sed, .nq, .twos, .sh, .mh:
            // Judged by where connections were (`followsConnections`) or by source
            // (`perSource`): a run of short requests from one client need not reach them all.
            break
        }
        return verdicts
    }

    /// fo, ovf: every answer from the highest-weight server. Between servers of equal highest
    /// weight the kernel takes the first it visits (a strictly greater weight replaces it), so a
    /// tie is decided by `kernelOrder`; without it, any one of the tied may take them all.
    static func highestWeightOnly(_ service: VirtualService, _ seen: [String], kernelOrder: [String]) -> Verdict {
        let weighted = service.realServers.filter { $0.weight > 0 }
        let highest = weighted.map(\.weight).max() ?? 0
        let tied = weighted.filter { $0.weight == highest }.map(\.host)
        let first = kernelOrder.first(where: tied.contains)
        let top = tied.count == 1 ? tied[0] : first ?? (tied.contains(seen[0]) ? seen[0] : nil)
        let others = seen.filter { $0 != top }
        let name = "\(service.scheduler.rawValue): the highest-weight server takes the load"
            + (tied.count > 1 ? " (of the tied \(tied.joined(separator: ", ")), the first the kernel lists)" : "")
        return Verdict(.highestWeightOnly, check: name, passed: top != nil && others.isEmpty,
                       detail: others.isEmpty ? "all \(seen.count) answered by \(top ?? "?")"
                           : "\(others.count) of \(seen.count) answered by others than \(top ?? "one of the tied")")
    }

    static func everyServerAnswers(_ weighted: [String], _ seen: [String]) -> Verdict {
        let silent = weighted.filter { !seen.contains($0) }
        return Verdict(.everyServerAnswers, check: "every real server with weight > 0 answers", passed: silent.isEmpty,
                       detail: silent.isEmpty ? "\(weighted.count) of \(weighted.count)" : "never answered: \(silent.joined(separator: ", "))")
    }

    static func sameServer(_ name: String, _ seen: [String]) -> Verdict {
        let distinct = Set(seen)
        return Verdict(.sameServer, check: name, passed: distinct.count == 1,
                       detail: distinct.count == 1 ? "all \(seen.count) answered by \(seen[0])" : "answered by \(distinct.sorted().joined(separator: ", "))")
    }

    /// Round robin: the answers repeat one order of the servers.
    static func cycles(_ seen: [String], period: Int) -> Verdict {
        guard period > 0, seen.count >= period else {
            return Verdict(.cyclesInOrder, check: "answers cycle in a fixed order", passed: false, detail: "too few answers for a cycle of \(period)")
        }
        let order = Array(seen.prefix(period))
        let distinctOrder = Set(order).count == period
        let broken = seen.indices.first { seen[$0] != order[$0 % period] }
        let passed = distinctOrder && broken == nil
        return Verdict(.cyclesInOrder, check: "answers cycle in a fixed order", passed: passed,
                       detail: passed ? order.joined(separator: " → ") + " → …" : "order breaks at request \((broken ?? 0) + 1): \(seen.prefix(12).joined(separator: " "))")
    }

    /// Weighted round robin: any full cycle (sum of weights / gcd requests) holds each server
    /// exactly weight / gcd times.
    static func proportional(_ service: VirtualService, _ seen: [String]) -> Verdict {
        let servers = service.realServers.filter { $0.weight > 0 }
        let divisor = servers.map(\.weight).reduce(0, gcd)
        let shares = Dictionary(servers.map { ($0.host, $0.weight / max(1, divisor)) }) { a, b in a + b }
        let period = shares.values.reduce(0, +)
        let name = "counts follow the weights (" + servers.map { "\($0.host) \($0.weight)" }.joined(separator: " : ") + ")"
        guard period > 0, seen.count >= period else {
            return Verdict(.followsWeights, check: name, passed: false, detail: "need at least \(period) answers, got \(seen.count)")
        }
        for start in stride(from: 0, through: seen.count - period, by: period) {
            var counts: [String: Int] = [:]
            for host in seen[start..<start + period] { counts[host, default: 0] += 1 }
            if counts != shares {
                return Verdict(.followsWeights, check: name, passed: false, detail: "requests \(start + 1)-\(start + period): \(counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
            }
        }
        return Verdict(.followsWeights, check: name, passed: true, detail: "each cycle of \(period): " + shares.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// Without an order: each server's share of the answers is its share of the weights (rr:
    /// equal), to within one answer.
    static func shares(_ service: VirtualService, _ seen: [String], equal: Bool) -> Verdict {
        let servers = service.realServers.filter { $0.weight > 0 }
        let total = servers.map { equal ? 1 : $0.weight }.reduce(0, +)
        var off: [String] = []
        var words: [String] = []
        for server in servers {
            let expected = Double(seen.count) * Double(equal ? 1 : server.weight) / Double(max(1, total))
            let got = seen.filter { $0 == server.host }.count
            words.append("\(server.host) \(got)")
            if abs(Double(got) - expected) > 1 { off.append("\(server.host) \(got), expected \(String(format: "%.1f", expected))") }
        }
        let name = equal ? "each server takes an equal share" : "shares follow the weights (" + servers.map { "\($0.host) \($0.weight)" }.joined(separator: " : ") + ")"
        return Verdict(.sharesFollowWeights, check: name, passed: off.isEmpty, detail: off.isEmpty ? words.joined(separator: ", ") : off.joined(separator: "; "))
    }

    /// What the test pages said against what IPVS counted per real server: two witnesses of the
    /// same requests. Connections from elsewhere meanwhile (a live cluster's traffic) make the
    /// counters no witness: said so, not failed.
    public static func countersAgree(pages: [String: Int], counters: [String: Int]) -> Verdict {
        let hosts = Set(pages.keys).union(counters.keys).filter { $0 != "none" }.sorted()
        let sent = hosts.map { pages[$0, default: 0] }.reduce(0, +), counted = hosts.map { counters[$0, default: 0] }.reduce(0, +)
        if counted > sent {
            return Verdict(.countersAgree, check: "IPVS's counters agree with the test pages", passed: true,
                           detail: "not witnessed: \(counted - sent) more connections reached the service meanwhile from elsewhere")
        }
        let differ = hosts.filter { pages[$0, default: 0] != counters[$0, default: 0] }
        return Verdict(.countersAgree, check: "IPVS's counters agree with the test pages", passed: differ.isEmpty,
                       detail: differ.isEmpty ? hosts.map { "\($0) \(counters[$0, default: 0])" }.joined(separator: ", ")
                           : differ.map { "\($0): pages \(pages[$0, default: 0]), counters \(counters[$0, default: 0])" }.joined(separator: "; "))
    }

    /// Which real server a response body names: the one whose test page it is.
    public static func identify(_ body: String, inventory: Inventory, service: VirtualService) -> String? {
        let text = body.trimmingCharacters(in: .whitespacesAndNewlines)
        return service.answeringServers.first { inventory.page(for: $0.host).trimmingCharacters(in: .whitespacesAndNewlines) == text }?.host
    }
}

extension DistributionJudge {
    /// lc, wlc, sed, nq: the answers' counts against what the scheduler does from the
    /// connections each server held when the requests began (`predicted`, from
    /// `ConnectionSchedulerModel`); off by one per server at most, for an old entry expiring
    /// meanwhile.
    public static func followsConnections(_ service: VirtualService, seen: [String], predicted: [String]) -> Verdict {
        var expected: [String: Int] = [:], got: [String: Int] = [:]
        for host in predicted { expected[host, default: 0] += 1 }
        for host in seen { got[host, default: 0] += 1 }
        let hosts = Set(expected.keys).union(got.keys).sorted()
        let off = hosts.filter { abs(expected[$0, default: 0] - got[$0, default: 0]) > 1 }
        let words = { (counts: [String: Int]) in hosts.map { "\($0) \(counts[$0, default: 0])" }.joined(separator: ", ") }
        return Verdict(.followsConnections, check: "\(service.scheduler.rawValue): new connections go where the fewest are (by the kernel's measure)",
                       passed: off.isEmpty && !seen.isEmpty,
                       detail: off.isEmpty ? "\(words(got)) (expected \(words(expected)))" : "got \(words(got)), expected \(words(expected))")
    }

    /// Several client sources (sh, mh, persistence): each source keeps to one server, and the
    /// sources spread over the servers, unless persistence's netmask puts them in one network,
    /// which then keeps to one server as a whole. sh and mh promise no spread over a few
    /// sources (eight may all hash to one server): `hashed`, the server their table gives each
    /// source (`SourceHashing`), is judged instead, and without it nothing more is.
    public static func perSource(_ service: VirtualService, answers: [String: [String?]], oneNetwork: Bool,
                                 hashed: [String: String]? = nil) -> [Verdict] {
        let all = answers.values.flatMap { $0 }
        guard !all.isEmpty else { return [nothingSent] }
        let unanswered = all.filter { $0 == nil }.count
        var verdicts = [Verdict(.everyRequestAnswered, check: "every request answered", passed: unanswered == 0,
                                detail: unanswered == 0 ? "\(all.count) of \(all.count) from \(answers.count) sources"
                                    : "\(unanswered) of \(all.count) got no answer from a known real server")]
        if service.spreadsOneClient {
            verdicts.append(portsSpread(service, all.compactMap { $0 }))
            return verdicts
        }
        let servers = answers.keys.sorted().map { source in (source, Set(answers[source]!.compactMap { $0 })) }
        let moved = servers.filter { $0.1.count > 1 }
        verdicts.append(Verdict(.sameServer, check: "each client source keeps to one server", passed: moved.isEmpty,
                                detail: moved.isEmpty ? servers.map { "\($0.0) → \($0.1.first ?? "none")" }.joined(separator: ", ")
                                    : moved.map { "\($0.0) reached \($0.1.sorted().joined(separator: ", "))" }.joined(separator: "; ")))
        let used = Set(servers.flatMap(\.1))
        let weighted = service.realServers.filter { $0.weight > 0 }.count
        if oneNetwork {
            verdicts.append(Verdict(.sourcesSpread, check: "clients of one network (netmask /\(service.persistenceNetmask ?? 32)) keep to one server",
                                    passed: used.count == 1, detail: "served by \(used.sorted().joined(separator: ", "))"))
        } else if [.sh, .mh].contains(service.scheduler) {
            if let hashed { verdicts.append(followsHash(service, servers, hashed: hashed)) }
        } else if weighted > 1, answers.count > 1 {
            verdicts.append(Verdict(.sourcesSpread, check: "the sources spread over the servers", passed: used.count > 1,
                                    detail: "\(answers.count) sources served by \(used.sorted().joined(separator: ", "))"))
        }
        return verdicts
    }
}

extension VirtualService {
    /// sh or mh with the port flag and no persistence (which would keep a client on one server):
    /// the client's port is hashed with its address, so one client's connections spread.
    public var spreadsOneClient: Bool { persistence == nil && [.sh, .mh].contains(scheduler) && schedulerFlags.contains(.port) }
}

extension DistributionJudge {
    /// sh, mh with the port flag: each connection comes from another client port, so they spread
    /// over the servers (which one takes a port is the kernel's hash of address and port; verify
    /// does not choose the ports, so it judges the spread, not the mapping). More than one
    /// server is the test: of 12 requests over three servers, all on one has odds of 1 in 177 147.
    static func portsSpread(_ service: VirtualService, _ seen: [String]) -> Verdict {
        let weighted = service.realServers.filter { $0.weight > 0 }.count
        let used = Set(seen)
        let flag = SchedulerFlag.port.word(for: service.scheduler)
        let expected = weighted > 1 && seen.count > 1
        return Verdict(.sourcesSpread, check: "\(flag): one client's connections spread over the servers",
                       passed: !expected || used.count > 1,
                       detail: "\(seen.count) connections served by \(used.sorted().joined(separator: ", "))")
    }

    /// sh, mh: each source reached the server the kernel's table gives it.
    static func followsHash(_ service: VirtualService, _ servers: [(String, Set<String>)], hashed: [String: String]) -> Verdict {
        let astray = servers.filter { source, reached in reached.contains { $0 != hashed[source] } }
        return Verdict(.followsHash, check: "\(service.scheduler.rawValue): each source reaches the server the kernel's hash table gives it",
                       passed: astray.isEmpty,
                       detail: astray.isEmpty ? Dictionary(grouping: servers.compactMap { hashed[$0.0] }) { $0 }.sorted { $0.key < $1.key }
                           .map { "\($0.key) \($0.value.count) of \(servers.count) sources" }.joined(separator: ", ")
                           : astray.map { "\($0.0) reached \($0.1.sorted().joined(separator: ", ")), the table gives \(hashed[$0.0] ?? "none")" }.joined(separator: "; "))
    }

    /// `-x`: a real server whose connections (active and inactive) reach its upper threshold is
    /// overloaded and takes nothing new. The kernel marks it when a connection binds to it (an
    /// edit of the threshold only clears the mark), so from `held` connections it takes at most
    /// `upper - held` new ones, or one when it is already at its limit but not yet marked.
    public static func upperThresholds(_ service: VirtualService, seen: [String], held: [String: Int]) -> [Verdict] {
        service.realServers.filter { $0.upperThreshold > 0 }.map { server in
            let before = held[server.host, default: 0]
            let allowed = max(1, server.upperThreshold - before)
            let got = seen.filter { $0 == server.host }.count
            return Verdict(.upperThreshold, check: "\(server.host) takes nothing new at its upper threshold (\(server.upperThreshold) connections)",
                           passed: got <= allowed, detail: "held \(before), took \(got) new (at most \(allowed))")
        }
    }
}
