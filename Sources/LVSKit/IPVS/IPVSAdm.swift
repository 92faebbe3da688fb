/// The one place that speaks ipvsadm: the commands lvsctl sends (`-A -E -D -a -e -d`), the lines
/// of `ipvsadm -S -n` (what `ipvsadm -R` reads back), and the parsing of what ipvsadm prints
/// (`-S -n`, `-L -n`, `-L -n --thresholds`, `-L -n --stats --exact`). `up`, `plan`, `verify`,
/// `status` and `render` all go through here; no template or command spells ipvsadm's arguments.
public enum IPVSAdm {
    /// What lvsctl runs to read a director's table: the rules, then thresholds and connection
    /// counts (`-S` has no thresholds).
    public static let readSave = "ipvsadm -S -n"
    /// Unsorted (ipvsadm sorts by address unless told not to): the kernel's own order of the
    /// destinations, the order its schedulers visit them in.
    public static let readThresholds = "ipvsadm -L -n --thresholds --nosort"
    public static let readStats = "ipvsadm -L -n --stats --exact"

    // MARK: - Words

    public static func flag(_ mode: ForwardingMode) -> String {
        switch mode {
        case .nat: return "-m"
        case .directRouting: return "-g"
        case .tunnel: return "-i"
        }
    }

    /// The method as the listings' Forward column names it (`-L -n` and /proc/net/ip_vs): `Masq`,
    /// `Tunnel`, `Route`; read back, any other word (`Local`) is direct routing, as `-S`'s default.
    public static func forwardColumn(_ mode: ForwardingMode) -> String {
        switch mode {
        case .nat: return "Masq"
        case .directRouting: return "Route"
        case .tunnel: return "Tunnel"
        }
    }

    static func method(forwardColumn word: Substring) -> ForwardingMode {
        word == "Masq" ? .nat : word == "Tunnel" ? .tunnel : .directRouting
    }

    /// `-t 192.168.0.200:80`, `-u [fd00::1]:53`, `-f 7`, `-f 8 -6`.
    public static func arguments(_ key: IPVSServiceKey) -> [String] {
        switch key {
        case let .tcp(address, port): return ["-t", address.withPort(port)]
        case let .udp(address, port): return ["-u", address.withPort(port)]
        case let .sctp(address, port): return ["--sctp-service", address.withPort(port)]
        case let .fwmark(mark, family): return ["-f", String(mark)] + (family == .v6 ? ["-6"] : [])
        }
    }

    static func serviceOptions(_ service: IPVSService) -> [String] {
        var words = ["-s", service.scheduler]
        if let timeout = service.persistence {
            words += ["-p", String(timeout)]
            if let netmask = service.netmask { words += ["-M", netmask] }
        }
        if let flags = service.schedulerFlags { words += ["-b", flags] }
        return words
    }

    static func destinationOptions(_ destination: IPVSDestination, thresholds: Bool) -> [String] {
        var words = ["-r", destination.endpoint.description, flag(destination.method), "-w", String(destination.weight)]
        // -e resets what it is not given: thresholds left out become 0, which is what 0 means.
        if thresholds && destination.upper > 0 { words += ["-x", String(destination.upper)] }
        if thresholds && destination.lower > 0 { words += ["-y", String(destination.lower)] }
        return words
    }

    // MARK: - Commands (argument vectors, without the leading `ipvsadm`)

    public static func addService(_ service: IPVSService) -> [String] { ["-A"] + arguments(service.key) + serviceOptions(service) }
    /// `-E` takes the whole service: what it is not given reverts to ipvsadm's defaults.
    public static func editService(_ service: IPVSService) -> [String] { ["-E"] + arguments(service.key) + serviceOptions(service) }
    public static func deleteService(_ key: IPVSServiceKey) -> [String] { ["-D"] + arguments(key) }
    public static func addDestination(_ destination: IPVSDestination, to key: IPVSServiceKey) -> [String] {
        ["-a"] + arguments(key) + destinationOptions(destination, thresholds: true)
    }
    /// `-e` takes the whole destination: method, weight and thresholds.
    public static func editDestination(_ destination: IPVSDestination, in key: IPVSServiceKey) -> [String] {
        ["-e"] + arguments(key) + destinationOptions(destination, thresholds: true)
    }
    public static func deleteDestination(_ destination: IPVSDestination, from key: IPVSServiceKey) -> [String] {
        ["-d"] + arguments(key) + ["-r", destination.endpoint.description]
    }
    /// The connection counts of one service (`ipvsadm -L -n --thresholds -t …`).
    public static func readThresholds(of key: IPVSServiceKey) -> [String] { ["-L", "-n", "--thresholds"] + arguments(key) }

    /// A shell pipeline printing the sum of the weights of `key`'s destinations in the live
    /// table (`-S -n` lines `-a <service> -r <destination> … -w <weight>`), or nothing when the
    /// director has no such service or it has no destination.
    public static func destinationWeightSum(_ key: IPVSServiceKey) -> String {
        let prefix = (["-a"] + arguments(key) + ["-r"]).joined(separator: " ") + " "
        return "\(readSave) 2>/dev/null | awk -v p=\(ShellQuote.quote(prefix)) "
            + "'index($0, p) == 1 { n++; for (i = 1; i < NF; i++) if ($i == \"-w\") w += $(i + 1) } END { if (n) print w + 0 }'"
    }

    /// A command line for a shell, every word quoted where it needs to be.
    public static func shell(_ arguments: [String]) -> String {
        (["ipvsadm"] + arguments.map(ShellQuote.quote)).joined(separator: " ")
    }

    /// A command as a line of what `ipvsadm -R` reads (its words are lvsctl's typed values:
    /// addresses, numbers, scheduler names; none holds a space).
    public static func batchLine(_ arguments: [String]) -> String { arguments.joined(separator: " ") }

    /// The commands that create a service with all its destinations.
    public static func create(_ service: IPVSService) -> [[String]] {
        [addService(service)] + service.destinations.map { addDestination($0, to: service.key) }
    }

    /// The lines `ipvsadm -S -n` prints for the service (no thresholds: ipvsadm -S has none).
    public static func saveLines(_ service: IPVSService) -> [String] {
        [(["-A"] + arguments(service.key) + serviceOptions(service)).joined(separator: " ")]
            + service.destinations.map { (["-a"] + arguments(service.key) + destinationOptions($0, thresholds: false)).joined(separator: " ") }
    }

    /// An ipvsadm command line read back into the change it makes (what the in-memory twin
    /// runs; a line of `-S -n` is a command too). Defaults as ipvsadm's: scheduler wlc, method -g,
    /// weight 1, no thresholds.
    public static func command(_ words: [String]) -> IPVSCommand? {
        guard let verb = words.first, let key = key(fromSave: words) else { return nil }
        func value(after flag: String) -> String? {
            words.firstIndex(of: flag).flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil }
        }
        switch verb {
        case "-A", "-E":
            let service = IPVSService(key: key, scheduler: value(after: "-s") ?? "wlc", persistence: value(after: "-p").flatMap { Int($0) },
                                      netmask: value(after: "-M"), schedulerFlags: value(after: "-b"))
            return verb == "-A" ? .addService(service) : .editService(service)
        case "-D":
            return .deleteService(key)
        case "-a", "-e", "-d":
            guard let target = value(after: "-r").flatMap(parseEndpoint) else { return nil }
            if verb == "-d" { return .deleteDestination(key, target) }
            let method: ForwardingMode = words.contains("-m") ? .nat : words.contains("-i") ? .tunnel : .directRouting
            let destination = IPVSDestination(address: target.address, port: target.port, method: method,
                                              weight: value(after: "-w").flatMap { Int($0) } ?? 1,
                                              upper: value(after: "-x").flatMap { Int($0) } ?? 0, lower: value(after: "-y").flatMap { Int($0) } ?? 0)
            return verb == "-a" ? .addDestination(key, destination) : .editDestination(key, destination)
        default:
            return nil
        }
    }

    // MARK: - Reading

    /// The services of `ipvsadm -S -n`, in its order (thresholds 0: -S does not print them).
    public static func parseSave(_ text: String) -> [IPVSService] {
        // Each line is the command that restores it (`-A`, then `-a` per destination in order).
        var services: [IPVSService] = []
        for line in text.split(separator: "\n") {
            switch command(line.split(separator: " ").map(String.init)) {
            case let .addService(service): services.append(service)
            case let .addDestination(key, destination):
                if let index = services.lastIndex(where: { $0.key == key }) { services[index].destinations.append(destination) }
            default: continue
            }
        }
        return services
    }

    /// Reads a `-L -n` listing (plain, `--thresholds` or `--stats`) into `table`: thresholds and
    /// connection counts onto its destinations, counters beside them. Services the listing has
    /// and the table not are added (without destinations' methods, which only -S and the plain
    /// listing name); a destination the thresholds listing has and the table not, as `missing`
    /// makes it (`table(kernel:thresholds:)`).
    public static func readListing(_ text: String, into table: inout IPVSTable,
                                   missing: ((IPVSServiceKey, Endpoint) -> IPVSDestination?)? = nil) {
        enum Columns { case plain, thresholds, stats }
        var columns = Columns.plain
        var current: IPVSServiceKey?
        // Edited apart from the table and put back once (the table indexes its services anew on
        // each change); a destination's place is looked up, not searched for.
        var services = table.services
        var positions = [IPVSServiceKey: Int]()
        for (index, service) in services.enumerated() where positions[service.key] == nil { positions[service.key] = index }
        defer { table.services = services }
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard let first = words.first else { continue }
            if first == "Prot" || line.hasPrefix("  -> RemoteAddress") {
                if line.contains("Uthreshold") { columns = .thresholds } else if line.contains("Conns") { columns = .stats }
                continue
            }
            if first == "->" {
                guard let key = current, words.count >= 2, let endpoint = parseEndpoint(words[1]) else { continue }
                let numbers = words.dropFirst(2).compactMap { Int($0) }
                guard let index = positions[key] else { continue }
                var destinations = services[index].destinations
                switch columns {
                case .plain:
                    guard words.count >= 6, let weight = Int(words[3]) else { continue }
                    let method = method(forwardColumn: Substring(words[2]))
                    if let at = destinations.firstIndex(where: { $0.endpoint == endpoint }) {
                        destinations[at].weight = weight
                    } else {
                        destinations.append(IPVSDestination(address: endpoint.address, port: endpoint.port, method: method, weight: weight))
                    }
                    if numbers.count >= 3 { table.connections[key, default: [:]][endpoint] = IPVSConnectionCounts(active: numbers[1], inactive: numbers[2]) }
                case .thresholds:
                    guard numbers.count >= 4 else { continue }
                    if let at = destinations.firstIndex(where: { $0.endpoint == endpoint }) {
                        destinations[at].upper = numbers[0]
                        destinations[at].lower = numbers[1]
                    } else if var made = missing?(key, endpoint) {
                        (made.upper, made.lower) = (numbers[0], numbers[1])
                        destinations.append(made)
                    }
                    table.connections[key, default: [:]][endpoint] = IPVSConnectionCounts(active: numbers[2], inactive: numbers[3])
                    if table.kernelOrder[key]?.contains(endpoint) != true { table.kernelOrder[key, default: []].append(endpoint) }
                case .stats:
                    guard numbers.count >= 5 else { continue }
                    table.destinationStats[key, default: [:]][endpoint] = stats(numbers)
                }
                services[index].destinations = destinations
                continue
            }
            guard let (key, rest) = key(fromListing: words) else { current = nil; continue }
            current = key
            if positions[key] == nil {
                var service = IPVSService(key: key, scheduler: "?")
                if columns != .stats { describe(&service, from: rest) }
                positions[key] = services.count
                services.append(service)
            }
            if columns == .stats {
                let numbers = rest.compactMap { Int($0) }
                if numbers.count >= 5 { table.serviceStats[key] = stats(numbers) }
            }
        }
    }

    /// The live table from what the director printed for `readSave` and `readThresholds`.
    /// A `-L -n` listing alone (connection counts, thresholds or counters, by service).
    public static func table(listing: String) -> IPVSTable {
        var table = IPVSTable()
        readListing(listing, into: &table)
        return table
    }

    public static func table(save: String, thresholds: String, stats: String? = nil) -> IPVSTable {
        var table = IPVSTable(services: parseSave(save))
        readListing(thresholds, into: &table)
        if let stats { readListing(stats, into: &table) }
        return table
    }

    static func stats(_ numbers: [Int]) -> IPVSStats {
        IPVSStats(connections: numbers[0], inPackets: numbers[1], outPackets: numbers[2], inBytes: numbers[3], outBytes: numbers[4])
    }

    /// `wrr persistent 300 mask 255.255.255.0 (sh-port)` after a listing's service address.
    static func describe(_ service: inout IPVSService, from words: [String]) {
        guard let scheduler = words.first else { return }
        service.scheduler = scheduler
        if let at = words.firstIndex(of: "persistent"), at + 1 < words.count { service.persistence = Int(words[at + 1]) }
        if let at = words.firstIndex(of: "mask"), at + 1 < words.count { service.netmask = words[at + 1] }
        if let flags = words.first(where: { $0.hasPrefix("(") }) { service.schedulerFlags = String(flags.dropFirst().dropLast()) }
    }

    static func key(fromSave words: [String]) -> IPVSServiceKey? {
        guard words.count >= 3 else { return nil }
        switch words[1] {
        case "-t", "--tcp-service": return parseEndpoint(words[2]).map { .tcp($0.address, port: $0.port) }
        case "-u", "--udp-service": return parseEndpoint(words[2]).map { .udp($0.address, port: $0.port) }
        case "--sctp-service": return parseEndpoint(words[2]).map { .sctp($0.address, port: $0.port) }
        case "-f", "--fwmark-service":
            guard let mark = Int(words[2]) else { return nil }
            return .fwmark(mark, words.contains("-6") ? .v6 : .v4)
        default: return nil
        }
    }

    /// `TCP  192.168.0.200:80 …`, `FWM  8 IPv6 …`: the key, and the words after it.
    static func key(fromListing words: [String]) -> (IPVSServiceKey, [String])? {
        guard words.count >= 2 else { return nil }
        switch words[0] {
        case "TCP", "UDP", "SCTP":
            guard let endpoint = parseEndpoint(words[1]) else { return nil }
            let key: IPVSServiceKey = words[0] == "TCP" ? .tcp(endpoint.address, port: endpoint.port)
                : words[0] == "UDP" ? .udp(endpoint.address, port: endpoint.port) : .sctp(endpoint.address, port: endpoint.port)
            return (key, Array(words.dropFirst(2)))
        case "FWM":
            guard let mark = Int(words[1]) else { return nil }
            let v6 = words.count > 2 && words[2] == "IPv6"
            return (.fwmark(mark, v6 ? .v6 : .v4), Array(words.dropFirst(v6 ? 3 : 2)))
        default:
            return nil
        }
    }

    static func parseEndpoint(_ text: String) -> Endpoint? { Endpoint(parsing: text) }
}

/// One change ipvsadm makes to a table, typed (see `IPVSAdm.command`).
public enum IPVSCommand: Hashable, Sendable {
    /// `-A` / `-E`: the service's settings (its destinations are not part of the command).
    case addService(IPVSService)
    case editService(IPVSService)
    case deleteService(IPVSServiceKey)
    case addDestination(IPVSServiceKey, IPVSDestination)
    case editDestination(IPVSServiceKey, IPVSDestination)
    case deleteDestination(IPVSServiceKey, Endpoint)
}
