import Foundation
import LVSKit

/// An in-memory IPVS table that behaves as the kernel does in what lvsctl relies on, so the
/// reconcile, drain and bridge logic is proven in milliseconds instead of on the emulated VM
/// (kube-proxy's `pkg/util/ipvs` fake is the model). It runs the ipvsadm commands lvsctl's
/// grammar writes (`IPVSAdm.command` reads them back) and prints what `ipvsadm -S -n` and
/// `ipvsadm -L -n --thresholds --nosort` print, which lvsctl's parser reads. What it keeps of
/// the kernel, each checked against the lab's Debian 12 kernel:
/// - `-A` of a service that exists, `-E`/`-D`/`-a`/`-e`/`-d` of one that does not, `-a` of a
///   destination that exists and `-e`/`-d` of one that does not are refused with ipvsadm's words;
/// - `-E` keeps the service's destinations, connection entries and counters (a service deleted
///   and created again would lose them: `generation` tells);
/// - `-a` inserts a destination at the head of the kernel's list (`list_add_rcu`), which is the
///   order schedulers visit them in and the order `--nosort` prints;
/// - weight 0 keeps a destination (and its connections) but gives it nothing new;
/// - `-d` removes a destination at once, connections or not (the kernel parks it in its trash
///   while its entries expire): `deletedWithConnections` counts the cuts.
/// Connections are given by the test (`open`), and end one per destination per `tick`.
public final class IPVSTwin: @unchecked Sendable {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var command: [String]
        public var message: String
        public var description: String { "ipvsadm \(command.joined(separator: " ")): \(message)" }
    }

    struct Destination {
        var value: IPVSDestination
        var active = 0
        var inactive = 0
        var connections = 0
    }

    struct Service {
        var settings: IPVSService
        /// In the kernel's order: the newest `-a` first.
        var destinations: [Destination] = []
        /// Which `-A` made it: a service deleted and created again has a new one.
        var generation: Int
        var connections = 0
    }

    private let lock = NSLock()
    private var services: [Service] = []
    private var generations = 0
    private var deletedWithConnectionsCount = 0
    private var history: [[String]] = []
    /// Connections that end before each count `connections(of:)` makes (0: time stands still).
    public var ticksPerCount: Int {
        get { locked { ticks } }
        set { locked { ticks = newValue } }
    }
    private var ticks = 0
    /// The schedulers this kernel has (an unknown one is refused by `-A`/`-E`).
    public let schedulers: Set<String>

    public init(schedulers: Set<String> = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"]) {
        self.schedulers = schedulers
    }

    /// A twin holding what `ipvsadm -S -n` printed (as if the rules were restored from it).
    public convenience init(save: String) throws {
        self.init()
        for line in save.split(separator: "\n") where !line.isEmpty {
            try run(line.split(separator: " ").map(String.init))
        }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: - Commands

    /// Runs one ipvsadm command (its arguments, without `ipvsadm`).
    public func run(_ words: [String]) throws {
        try locked {
            history.append(words)
            guard let command = IPVSAdm.command(words) else { throw Failure(command: words, message: "not a command lvsctl's grammar writes") }
            try apply(command, words)
        }
    }

    /// Runs commands in order, stopping at the first that fails (as `&&` does on the host).
    public func run(_ commands: [[String]]) throws {
        for command in commands { try run(command) }
    }

    /// What `ipvsadm -R` does with its lines: each run in order, a refused one reported (on
    /// stderr) and passed over, the rest still made.
    public func restore(_ lines: [String]) -> [Failure] {
        var refused: [Failure] = []
        for line in lines {
            do { try run(line.split(separator: " ").map(String.init)) } catch let failure as Failure { refused.append(failure) } catch {}
        }
        return refused
    }

    private func index(_ key: IPVSServiceKey) -> Int? { services.firstIndex { $0.settings.key == key } }

    private func apply(_ command: IPVSCommand, _ words: [String]) throws {
        func fail(_ message: String) -> Failure { Failure(command: words, message: message) }
        switch command {
        case let .addService(service):
            guard index(service.key) == nil else { throw fail("Service already exists") }
            guard schedulers.contains(service.scheduler) else { throw fail("Scheduler not found: ip_vs_\(service.scheduler).ko") }
            generations += 1
            services.append(Service(settings: service.settings, generation: generations))
        case let .editService(service):
            guard let at = index(service.key) else { throw fail("No such service") }
            guard schedulers.contains(service.scheduler) else { throw fail("Scheduler not found: ip_vs_\(service.scheduler).ko") }
            services[at].settings = service.settings
        case let .deleteService(key):
            guard let at = index(key) else { throw fail("No such service") }
            deletedWithConnectionsCount += services[at].destinations.filter { $0.active + $0.inactive > 0 }.count
            services.remove(at: at)
        case let .addDestination(key, destination):
            guard let at = index(key) else { throw fail("No such service") }
            guard !services[at].destinations.contains(where: { $0.value.endpoint == destination.endpoint }) else { throw fail("Destination already exists") }
            services[at].destinations.insert(Destination(value: destination), at: 0)
        case let .editDestination(key, destination):
            guard let at = index(key) else { throw fail("No such service") }
            guard let d = services[at].destinations.firstIndex(where: { $0.value.endpoint == destination.endpoint }) else { throw fail("No such destination") }
            services[at].destinations[d].value = destination
        case let .deleteDestination(key, endpoint):
            guard let at = index(key) else { throw fail("No such service") }
            guard let d = services[at].destinations.firstIndex(where: { $0.value.endpoint == endpoint }) else { throw fail("No such destination") }
            if services[at].destinations[d].active + services[at].destinations[d].inactive > 0 { deletedWithConnectionsCount += 1 }
            services[at].destinations.remove(at: d)
        }
    }

    // MARK: - Traffic

    /// `count` new connections to one destination (active, or inactive: finished but not expired).
    public func open(_ key: IPVSServiceKey, _ destination: Endpoint, active: Int = 0, inactive: Int = 0) {
        locked {
            guard let at = index(key), let d = services[at].destinations.firstIndex(where: { $0.value.endpoint == destination }) else { return }
            services[at].destinations[d].active += active
            services[at].destinations[d].inactive += inactive
            services[at].destinations[d].connections += active + inactive
            services[at].connections += active + inactive
        }
    }

    /// Time passes: on each destination one active connection finishes and one inactive expires.
    public func tick() {
        locked {
            for s in services.indices {
                for d in services[s].destinations.indices {
                    let destination = services[s].destinations[d]
                    if destination.inactive > 0 { services[s].destinations[d].inactive -= 1 }
                    if destination.active > 0 {
                        services[s].destinations[d].active -= 1
                        services[s].destinations[d].inactive += 1
                    }
                }
            }
        }
    }

    // MARK: - Reading

    /// Every command run so far, in order.
    public var commands: [[String]] { locked { history } }
    /// Destinations deleted while connections still held them.
    public var deletedWithConnections: Int { locked { deletedWithConnectionsCount } }
    /// Which `-A` made the service (nil: none has it).
    public func generation(_ key: IPVSServiceKey) -> Int? { locked { index(key).map { services[$0].generation } } }
    /// Connections the service has taken since its `-A`.
    public func connectionCount(_ key: IPVSServiceKey) -> Int? { locked { index(key).map { services[$0].connections } } }

    /// What `ipvsadm -S -n` prints (destinations in the kernel's order, as ipvsadm-save does).
    public var save: String {
        locked {
            services.flatMap { service in
                var copy = service.settings
                copy.destinations = service.destinations.map(\.value)
                return IPVSAdm.saveLines(copy)
            }.map { $0 + "\n" }.joined()
        }
    }

    /// What `ipvsadm -L -n --thresholds --nosort` prints (for some services only, or all).
    public func thresholds(_ keys: [IPVSServiceKey]? = nil) -> String {
        locked {
            var lines = ["IP Virtual Server version 1.2.1 (size=4096)",
                         "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn",
                         "  -> RemoteAddress:Port"]
            for service in services where keys?.contains(service.settings.key) ?? true {
                lines.append(Self.heading(service.settings))
                for d in service.destinations {
                    lines.append("  -> " + Self.pad(d.value.endpoint.description, 26) + Self.pad(String(d.value.upper), 11) + Self.pad(String(d.value.lower), 11)
                                 + Self.pad(String(d.active), 11) + String(d.inactive))
                }
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    /// What `/proc/net/ip_vs` prints (addresses and ports in hexadecimal, an IPv6 address in
    /// full, persistence in jiffies at HZ 250, no family for a firewall mark, no thresholds).
    public var kernelListing: String {
        func hex(_ value: Int, _ digits: Int) -> String {
            let text = String(value, radix: 16, uppercase: true)
            return String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        func endpoint(_ address: IPAddress, _ port: Int) -> String {
            guard address.isV6 else { return hex(address.bytes.reduce(0) { $0 << 8 | Int($1) }, 8) + ":" + hex(port, 4) }
            let groups = stride(from: 0, to: 16, by: 2).map { hex(Int(address.bytes[$0]) << 8 | Int(address.bytes[$0 + 1]), 4).lowercased() }
            return "[" + groups.joined(separator: ":") + "]:" + hex(port, 4)
        }
        return locked {
            var lines = ["IP Virtual Server version 1.2.1 (size=4096)", "Prot LocalAddress:Port Scheduler Flags",
                         "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn"]
            for service in services {
                let settings = service.settings
                var line: String
                switch settings.key {
                case let .tcp(address, port): line = "TCP  " + endpoint(address, port)
                case let .udp(address, port): line = "UDP  " + endpoint(address, port)
                case let .sctp(address, port): line = "SCTP " + endpoint(address, port)
                case let .fwmark(mark, _): line = "FWM  " + hex(mark, 8)
                }
                line += " \(settings.scheduler) "
                if let timeout = settings.persistence { line += "persistent \(timeout * 250) FFFFFFFF" }
                lines.append(line)
                for d in service.destinations {
                    lines.append("  -> " + endpoint(d.value.address, d.value.port) + "      " + Self.pad(IPVSAdm.forwardColumn(d.value.method), 7) + Self.pad(String(d.value.weight), 6)
                                 + Self.pad(String(d.active), 10) + String(d.inactive))
                }
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    /// The table as lvsctl reads it from a director: through its own parser.
    public var table: IPVSTable { IPVSAdm.table(save: save, thresholds: thresholds()) }

    static func heading(_ service: IPVSService) -> String {
        var words: [String]
        switch service.key {
        case let .tcp(address, port): words = ["TCP ", pad(address.withPort(port), 29)]
        case let .udp(address, port): words = ["UDP ", pad(address.withPort(port), 29)]
        case let .sctp(address, port): words = ["SCTP", pad(address.withPort(port), 29)]
        case let .fwmark(mark, family): words = ["FWM ", pad(String(mark) + (family == .v6 ? " IPv6" : ""), 29)]
        }
        words.append(service.scheduler)
        if let timeout = service.persistence { words += ["persistent", String(timeout)] }
        if let netmask = service.netmask { words += ["mask", netmask] }
        if let flags = service.schedulerFlags { words.append("(\(flags))") }
        return words.joined(separator: " ")
    }

    static func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count) }
}

extension IPVSTwin: IPVSInterface {
    /// Each count is a moment later: connections end (`tick`) before it is read, when the test
    /// asks for time to pass (`ticksPerCount`).
    public func connections(of keys: [IPVSServiceKey]) async -> IPVSTable? {
        for _ in 0..<ticksPerCount { tick() }
        return IPVSAdm.table(listing: thresholds(keys))
    }

    /// As the director's shell does (`IPVSBatch`): a scheduler change through its bridge first
    /// (the fwmark service made, then `-E`; the marking rule is iptables', which the twin does
    /// not hold), stopping at the first failure; then every other change in one `restore`, judged
    /// from the table after it when anything was refused; then the deletions; then the bridges'
    /// services deleted.
    public func apply(_ steps: [HostScript.IPVSStep], endingBridges bridges: [SchedulerBridge]) async -> [HostOutput.Step?] {
        let batch = IPVSBatch(steps)
        var bridged: [Int: HostOutput.Step] = [:]
        for index in batch.bridged {
            let bridge = steps[index].change.bridge!
            do {
                try run(IPVSAdm.create(bridge.service) + [IPVSAdm.editService(bridge.to)])
                bridged[index] = HostOutput.Step(status: .done)
            } catch {
                bridged[index] = HostOutput.Step(status: .failed, output: ["\(error)"])
                return batch.results(bridged: bridged, batch: nil, after: nil, undone: [:])
            }
        }
        let refused = restore(batch.lines)
        let outcome = HostOutput.Step(status: refused.isEmpty ? .done : .failed, output: refused.map(\.message))
        var undone: [String: HostOutput.Step] = [:]
        if refused.isEmpty {
            for index in batch.deletions {
                let key = steps[index].change.serviceKey
                if generation(key) != nil { try? run(IPVSAdm.deleteService(key)) }
                undone[key.resourceID.recordKey] = HostOutput.Step(status: .done)
            }
        }
        for bridge in bridges { try? run(IPVSAdm.deleteService(bridge.service.key)) }
        return batch.results(bridged: bridged, batch: outcome, after: refused.isEmpty ? nil : table, undone: undone)
    }
}
