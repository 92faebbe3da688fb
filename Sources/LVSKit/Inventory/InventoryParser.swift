import Foundation
import Yams

/// Turns an inventory file's text into a validated `Inventory`, or every problem in it.
public enum InventoryParser {
    static let topKeys = ["hosts", "cluster", "ssh"]
    /// Values a document may hold once its aliases are expanded: as many as a file of its size
    /// could hold written out (a value takes at least two bytes), and 200 000 more for aliases.
    /// A site's 10 000 services are accepted; an alias bomb, a few lines that double at each
    /// level, is refused before it is expanded.
    static func maximumValues(textBytes: Int) -> Int { 200_000 + textBytes / 2 }
    static let sshKeys = ["known_hosts", "config"]
    static let hostKeys = ["address", "port", "user", "identity", "jump", "become"]
    static let clusterKeys = ["mode", "director", "directors", "vrrp", "services", "client", "test_page", "masquerade", "dos",
                              "flush_nat", "selinux_permissive", "persist", "timeouts", "metrics", "bgp"]
    static let directorKeys = ["host", "interface", "inner_interface", "dip", "dip6", "priority", "router_id", "drain"]
    static let serviceKeys = ["vip", "port", "ports", "protocol", "fwmark", "scheduler", "persistence", "netmask", "real_servers",
                              "health_check", "sorry_server", "flags"]
    static let realServerKeys = ["host", "rip", "port", "weight", "upper", "lower", "page", "test_page"]
    static let dosKeys = ["drop_entry", "drop_packet", "secure_tcp"]
    static let timeoutKeys = ["tcp", "tcp_fin", "udp"]
    static let metricsKeys = ["port"]
    static let bgpKeys = ["as", "peers", "hold_time", "bfd"]
    static let peerKeys = ["address", "as"]
    /// 4-byte AS numbers (RFC 6793); 0 is reserved.
    static let asRange = 1...4_294_967_295
    /// The longest timeout lvsctl passes on: 31 days, in seconds.
    static let timeoutRange = 1...2_678_400
    /// ipvsadm's own words for the modes, accepted too: `-g` reads like the seed's scripts.
    static let modeAliases: [String: ForwardingMode] = [
        "-m": .nat, "masquerading": .nat, "-g": .directRouting, "gatewaying": .directRouting,
        "direct-routing": .directRouting, "-i": .tunnel, "ipip": .tunnel, "tunnel": .tunnel,
    ]

    static var hostNamePattern: Regex<Substring> { /[A-Za-z0-9][A-Za-z0-9_.-]*/ }
    static var interfacePattern: Regex<Substring> { /[A-Za-z0-9][A-Za-z0-9_.-]*/ }
    static var userPattern: Regex<Substring> { /[a-z_][a-z0-9_.-]*\$?/ }
    static var pathPattern: Regex<Substring> { /~?[A-Za-z0-9_.\/@+-]+/ }
    static var dnsPattern: Regex<Substring> { /[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?/ }

    public static func parse(_ text: String, file: String) -> Result<Inventory, InventoryErrors> {
        var reader = YAMLReader(file: file)
        let root: Node
        do {
            // Every scalar is read as text and parsed by lvsctl (merge keys too): Yams' implicit
            // typing, a regular expression per scalar, was half of checking 10 000 services.
            guard let node = try Yams.compose(yaml: text, .basic) else {
                reader.report(SourceLocation(file: file, line: 1, column: 1), .emptyFile)
                return .failure(InventoryErrors(diagnostics: reader.diagnostics))
            }
            root = node
        } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
            for key in duplicates { reportDuplicate(key, in: text, mapping: context.mark, reader: &reader) }
            return .failure(InventoryErrors(diagnostics: reader.diagnostics))
        } catch let YamlError.reader(_, offset, value, _) {
            // A control character (a NUL, a form feed) YAML does not allow anywhere.
            let prefix = text.utf8.prefix(offset ?? 0)
            let line = prefix.filter { $0 == 0x0A }.count + 1
            let column = prefix.count - (prefix.lastIndex(of: 0x0A).map { prefix.distance(from: prefix.startIndex, to: $0) + 1 } ?? 0) + 1
            reader.report(SourceLocation(file: file, line: line, column: column), .controlCharacter(value))
            return .failure(InventoryErrors(diagnostics: reader.diagnostics))
        } catch let error as YamlError {
            let location = syntaxLocation(error, file: file)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if location.line >= 1, location.line <= lines.count, lines[location.line - 1].hasPrefix("\t") || lines[location.line - 1].contains(" \t") {
                reader.report(SourceLocation(file: file, line: location.line, column: 1), .tabIndentation)
            } else {
                reader.report(location, .syntax(syntaxSummary(error)))
            }
            return .failure(InventoryErrors(diagnostics: reader.diagnostics))
        } catch {
            reader.report(SourceLocation(file: file, line: 1, column: 1), .syntax("\(error)"))
            return .failure(InventoryErrors(diagnostics: reader.diagnostics))
        }
        // An inventory holds hundreds of values; one whose aliases expand past this is a bomb.
        let limit = Self.maximumValues(textBytes: text.utf8.count)
        if YAMLReader.expandedSize(root, budget: limit) > limit {
            reader.report(SourceLocation(file: file, line: 1, column: 1), .tooManyValues(limit))
            return .failure(InventoryErrors(diagnostics: reader.diagnostics))
        }
        reader.checkPastedCharacters(root, freeText: ["test_page", "page"])
        var builder = InventoryBuilder(reader: reader)
        let inventory = builder.build(root)
        var diagnostics = builder.reader.diagnostics
        if let inventory, diagnostics.isEmpty {
            diagnostics = InventoryValidator.validate(inventory)
            if diagnostics.isEmpty { return .success(inventory) }
        }
        diagnostics.sort { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        return .failure(InventoryErrors(diagnostics: diagnostics))
    }

    /// Yams refuses a mapping with a repeated key before we see its nodes: find the repeats in
    /// the text (keys at the mapping's indentation) to point at the second one.
    static func reportDuplicate(_ key: String, in text: String, mapping: Mark, reader: inout YAMLReader) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let indent = String(repeating: " ", count: max(0, mapping.column - 1))
        var first: Int?
        for number in max(1, mapping.line)...lines.count {
            let line = lines[number - 1]
            guard line.hasPrefix(indent + key + ":") || line.hasPrefix(indent + "\"" + key + "\":") else { continue }
            guard let firstLine = first else { first = number; continue }
            reader.report(SourceLocation(file: reader.file, line: number, column: mapping.column), .duplicateKey(key, firstLine: firstLine))
            return
        }
        reader.report(SourceLocation(file: reader.file, line: mapping.line, column: mapping.column), .duplicateKey(key, firstLine: mapping.line))
    }

    static func syntaxLocation(_ error: YamlError, file: String) -> SourceLocation {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            // A quote or bracket left open is found at the end of the file: point where it opened.
            if problem.contains("end of stream"), let opened = context?.mark {
                return SourceLocation(file: file, line: opened.line, column: opened.column)
            }
            return SourceLocation(file: file, line: mark.line, column: mark.column)
        default:
            return SourceLocation(file: file, line: 1, column: 1)
        }
    }

    static func syntaxSummary(_ error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, _, _), let .parser(context, problem, _, _), let .composer(context, problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
        default:
            return "\(error)"
        }
    }
}

/// Builds the model from the node tree, one section at a time.
struct InventoryBuilder {
    var reader: YAMLReader
    /// Every name under `hosts`, also those whose entry had a problem.
    var declaredHosts: Set<String> = []
    /// The names of the hosts `hosts:` defines, for references (one look-up each, not a scan).
    var hostNames: Set<String> = []
    typealias P = InventoryParser

    mutating func build(_ root: Node) -> Inventory? {
        guard let top = reader.fields(root, "inventory", allowed: P.topKeys) else { return nil }
        guard let hostsNode = top["hosts"] else {
            reader.report(root, .missingKey("hosts", in: "the inventory")); return nil
        }
        guard let clusterNode = top["cluster"] else {
            reader.report(root, .missingKey("cluster", in: "the inventory")); return nil
        }
        let hosts = readHosts(hostsNode)
        hostNames = Set(hosts.map(\.name))
        guard let cluster = reader.fields(clusterNode, "cluster", allowed: P.clusterKeys) else { return nil }
        let clusterKey = top.entries["cluster"]!.key   // where "cluster needs …" points

        var mode: ForwardingMode?
        if let node = cluster["mode"] { mode = reader.choice(node, "mode", aliases: P.modeAliases) }
        else { reader.report(clusterKey, .missingKey("mode", in: "'cluster' (nat, dr or tun)")) }

        let directors = readDirectors(cluster, clusterKey: clusterKey, hosts: hosts)
        let vrrp = cluster["vrrp"].flatMap { readVRRP($0) }
        let bgp = cluster["bgp"].flatMap { readBGP($0) }

        var services: [VirtualService] = []
        if let node = cluster["services"], let items = reader.list(node, "services") {
            services = items.compactMap { readService($0, hosts: hosts) }
            if items.isEmpty { reader.report(node, .noServices) }
        } else if cluster["services"] == nil {
            reader.report(clusterKey, .noServices)
        }

        var client: String?
        if let node = cluster["client"], let name = hostReference(node, "client", hosts: hosts) { client = name }
        var page = "I am RealServer{n} {rip}"
        var testPages = true
        if let node = cluster["test_page"], let text = reader.text(node, "test_page") {
            // `false`: the real servers already serve the application; `true`: the default page.
            switch text.lowercased() {
            case "false", "no", "off": testPages = false
            case "true", "yes", "on": break
            default: page = text
            }
        }
        let options = readOptions(cluster)

        guard let mode, let director = directors.first else { return nil }
        var inventory = Inventory(file: reader.file, hosts: hosts, mode: mode, director: director, services: services,
                                  client: client, pageTemplate: page, options: options)
        inventory.standbyDirectors = Array(directors.dropFirst())
        inventory.vrrp = vrrp
        inventory.bgp = bgp
        inventory.testPages = testPages
        if let node = top["ssh"], let ssh = reader.fields(node, "ssh", allowed: P.sshKeys) {
            let folder = (reader.file as NSString).deletingLastPathComponent
            func resolve(_ path: String) -> String {
                path.hasPrefix("/") || path.hasPrefix("~") || folder.isEmpty ? path : "\(folder)/\(path)"
            }
            let rule = "a file path of letters, digits and . / _ - @ + ~"
            if let n = ssh["known_hosts"], let path = reader.word(n, "known_hosts", pattern: P.pathPattern, maxLength: 4096, rule: rule) {
                inventory.knownHostsFiles = [resolve(path)]
            }
            if let n = ssh["config"], let path = reader.word(n, "config", pattern: P.pathPattern, maxLength: 4096, rule: rule) {
                inventory.sshConfigFile = resolve(path)
            }
        }
        return inventory
    }

    // MARK: - Sections

    mutating func readHosts(_ node: Node) -> [InventoryHost] {
        guard case let .mapping(mapping) = node else {
            reader.report(node, .wrongKind(field: "hosts", expected: "a mapping of host names to addresses"))
            return []
        }
        var hosts: [InventoryHost] = []
        var lines: [String: Int] = [:]   // a host's line by name: thousands of hosts stay linear
        for (key, value) in reader.merged(mapping) {
            if key.scalar?.string.hasPrefix("x-") == true { continue }
            if let raw = key.scalar?.string {
                // Declared, even if its entry turns out wrong (pasted characters stripped).
                declaredHosts.insert(String(raw.unicodeScalars.filter { YAMLReader.pasted($0) == nil }.map(Character.init)))
            }
            guard let name = reader.word(key, "host name", pattern: P.hostNamePattern, maxLength: 63,
                                         rule: "use letters, digits, '.', '_' and '-'") else { continue }
            if let firstLine = lines[name] {
                reader.report(key, .duplicateKey(name, firstLine: firstLine)); continue
            }
            var host = InventoryHost(name: name, address: "", location: reader.location(key))
            lines[name] = host.location.line
            if value.scalar != nil {   // `rs1: 10.0.0.11`
                guard let address = hostAddress(value) else { continue }
                host.address = address
            } else {
                guard let fields = reader.fields(value, "host '\(name)'", allowed: P.hostKeys) else { continue }
                guard let addressNode = fields["address"] else {
                    reader.report(key, .missingKey("address", in: "host '\(name)'")); continue
                }
                guard let address = hostAddress(addressNode) else { continue }
                host.address = address
                if let n = fields["port"], let port = reader.integer(n, "SSH port", in: 1...65535) { host.port = port }
                if let n = fields["user"], let user = reader.word(n, "user", pattern: P.userPattern, maxLength: 32,
                                                                   rule: "a Unix user name (lower-case letters, digits, '_', '-')") { host.user = user }
                if let n = fields["identity"] {
                    host.identityFile = reader.word(n, "identity", pattern: P.pathPattern, maxLength: 4096,
                                                    rule: "a key file path of letters, digits and . / _ - @ + ~")
                }
                if let n = fields["jump"] { host.jump = reader.text(n, "jump") }
                if let n = fields["become"] { host.become = reader.choice(n, "become") as Become? }
            }
            hosts.append(host)
        }
        for host in hosts {
            guard let jump = host.jump else { continue }
            if jump == host.name {
                reader.report(host.location, .jumpsThroughItself(jump))
                continue
            }
            if !hosts.contains(where: { $0.name == jump }) {
                reader.report(host.location, .undefinedHost(jump, field: "jump host", suggestion: YAMLReader.closest(jump, in: hosts.map(\.name))))
                continue
            }
            // rs1 → bastion → rs1 never arrives anywhere.
            var path = [host.name]
            var next: String? = jump
            while let name = next, let hop = hosts.first(where: { $0.name == name }) {
                if path.contains(name) { reader.report(host.location, .jumpCycle(path + [name])); break }
                path.append(name)
                next = hop.jump
            }
        }
        return hosts
    }

    /// An IP address, or a DNS name (resolved by SSH, never by a shell).
    mutating func hostAddress(_ node: Node) -> String? {
        guard let raw = reader.text(node, "address") else { return nil }
        if raw.first?.isNumber == true || raw.contains(":") {
            return reader.address(node, "address").map(\.description)
        }
        guard raw.count <= 253, raw.wholeMatch(of: P.dnsPattern) != nil else {
            reader.report(node, .badName(field: "address", value: raw, rule: "give an IP address or a DNS name"))
            return nil
        }
        return raw
    }

    mutating func hostReference(_ node: Node, _ field: String, hosts: [InventoryHost]) -> String? {
        guard let name = reader.text(node, field) else { return nil }
        guard hostNames.contains(name) else {
            if declaredHosts.contains(name) { return nil }   // its own entry was already reported
            reader.report(node, .undefinedHost(name, field: field, suggestion: YAMLReader.closest(name, in: hosts.map(\.name))))
            return nil
        }
        return name
    }

    mutating func interface(_ node: Node, _ field: String) -> String? {
        reader.word(node, field, pattern: P.interfacePattern, maxLength: 15,
                    rule: "a Linux interface name is 1-15 letters, digits, '_', '.' or '-' (no ':' alias, lvsctl adds it)")
    }

    mutating func readDirector(_ node: Node, hosts: [InventoryHost]) -> Director? {
        guard let fields = reader.fields(node, "director", allowed: P.directorKeys) else { return nil }
        guard let hostNode = fields["host"] else { reader.report(node, .missingKey("host", in: "'director'")); return nil }
        guard let name = hostReference(hostNode, "director host", hosts: hosts) else { return nil }
        var director = Director(host: name, dip: AddressWithPrefix(address: IPAddress(family: .v4, bytes: [0, 0, 0, 0]), prefix: 32),
                                location: reader.location(node))
        if let n = fields["interface"], let value = interface(n, "interface") { director.interface = value }
        if let n = fields["inner_interface"], let value = interface(n, "inner_interface") { director.innerInterface = value }
        if let n = fields["dip"] {
            guard let dip = addressWithPrefix(n, "dip") else { return nil }
            director.dip = dip
        } else if let host = hosts.first(where: { $0.name == name }), case let .success(address) = IPAddress.parse(host.address) {
            director.dip = AddressWithPrefix(address: address, prefix: address.isV6 ? 64 : 24)
        } else {
            reader.report(node, .missingKey("dip", in: "'director' (its host's address is a name, not an IP)"))
            return nil
        }
        if let n = fields["priority"] { director.priority = reader.integer(n, "priority", in: 1...254) }
        if let n = fields["router_id"], let id = reader.address(n, "router_id") {
            if id.isV6 { reader.report(n, .wrongFamily(field: "router_id", expected: "IPv4")) } else { director.routerID = id }
        }
        if let n = fields["drain"], let drained = reader.flag(n, "drain") { director.drained = drained }
        if let n = fields["dip6"], let dip6 = addressWithPrefix(n, "dip6") {
            if dip6.address.isV6 { director.dip6 = dip6 } else { reader.report(n, .wrongFamily(field: "dip6", expected: "IPv6")) }
        }
        return director
    }

    mutating func addressWithPrefix(_ node: Node, _ field: String) -> AddressWithPrefix? {
        guard let raw = reader.text(node, field) else { return nil }
        let parts = raw.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { reader.report(node, .badAddressWithPrefix(raw)); return nil }
        guard case let .success(address) = IPAddress.parse(String(parts[0])) else {
            if case let .failure(error) = IPAddress.parse(String(parts[0])) { reader.report(node, .badIPAddress(String(parts[0]), reason: error.reason)) }
            return nil
        }
        var prefix = address.isV6 ? 64 : 24
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...address.bitCount).contains(value) else {
                reader.report(node, .badAddressWithPrefix(raw)); return nil
            }
            prefix = value
        }
        return AddressWithPrefix(address: address, prefix: prefix)
    }
}
