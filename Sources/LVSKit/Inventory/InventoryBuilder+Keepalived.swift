import Foundation
import Yams

/// The keepalived parts of an inventory: a director pair with VRRP, health checks, sorry servers.
extension InventoryBuilder {
    static let vrrpKeys = ["router_id", "interface", "advert_int", "version", "preempt", "auth", "sync", "gateway"]
    static let healthCheckKeys = ["type", "path", "status", "text", "interval", "timeout", "retries", "retry_delay", "port",
                                  "inhibit_on_failure"]
    static let sorryServerKeys = ["host", "rip", "port"]
    /// VRRP's PASS authentication: at most 8 characters, and nothing a config file would misread.
    static var passwordPattern: Regex<Substring> { /[A-Za-z0-9_.+-]{1,8}/ }
    /// A health-check path: an absolute URL path, nothing keepalived's parser or a shell would split.
    static var urlPathPattern: Regex<Substring> { /\/[A-Za-z0-9_.~\/%?=&+-]*/ }
    /// The text an answer must contain: printable, without quotes or backslashes (keepalived's
    /// config has no escape for them).
    static var bodyTextPattern: Regex<Substring> { /[A-Za-z0-9 _.,:;!@#%&*()\/=+-]{1,200}/ }

    /// `director:` (one) or `directors:` (a keepalived pair or group), not both.
    mutating func readDirectors(_ cluster: Fields, clusterKey: Node, hosts: [InventoryHost]) -> [Director] {
        if let node = cluster["directors"] {
            if let key = cluster.entries["director"]?.key { reader.report(key, .directorAndDirectors) }
            guard let items = reader.list(node, "directors") else { return [] }
            if items.isEmpty { reader.report(node, .missingKey("host", in: "'directors' (at least one director)")) }
            return items.compactMap { readDirector($0, hosts: hosts) }
        }
        if let node = cluster["director"] { return readDirector(node, hosts: hosts).map { [$0] } ?? [] }
        reader.report(clusterKey, .missingKey("director", in: "'cluster'"))
        return []
    }

    mutating func readVRRP(_ node: Node) -> VRRP? {
        guard let fields = reader.fields(node, "vrrp", allowed: Self.vrrpKeys) else { return nil }
        guard let idNode = fields["router_id"] else {
            reader.report(node, .missingKey("router_id", in: "'vrrp' (keepalived's virtual_router_id, 1-255, unique on the segment)"))
            return nil
        }
        guard let id = reader.integer(idNode, "router_id", in: 1...255) else { return nil }
        var vrrp = VRRP(routerID: id, location: reader.location(node))
        if let n = fields["interface"] { vrrp.interface = interface(n, "interface") }
        if let n = fields["version"], let version = reader.integer(n, "VRRP version", in: 2...3) { vrrp.version = version }
        if let n = fields["advert_int"], let raw = reader.text(n, "advert_int") {
            if let centiseconds = Self.centiseconds(raw), vrrp.version == 3 ? (1...4095).contains(centiseconds) : (centiseconds % 100 == 0 && (100...25500).contains(centiseconds)) {
                vrrp.advertCentiseconds = centiseconds
            } else {
                reader.report(n, .badAdvertInterval(raw, version: vrrp.version))
            }
        }
        if let n = fields["preempt"], let value = reader.flag(n, "preempt") { vrrp.preempt = value }
        if let n = fields["sync"], let value = reader.flag(n, "sync") { vrrp.sync = value }
        if let n = fields["auth"] {
            vrrp.password = reader.word(n, "auth", pattern: Self.passwordPattern, maxLength: 8,
                                        rule: "VRRP's password is 1-8 letters, digits, '_', '.', '+' or '-'")
            if vrrp.version == 3, vrrp.password != nil { reader.report(n, .authWithVRRP3) }
        }
        if let n = fields["gateway"] { vrrp.gateway = addressWithPrefix(n, "gateway") }
        return vrrp
    }

    /// `1`, `0.5`, `0.05` in hundredths of a second; nil for anything else.
    static func centiseconds(_ raw: String) -> Int? {
        let parts = raw.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int(parts[0]), whole >= 0 else { return nil }
        guard parts.count == 2 else { return whole * 100 }
        let fraction = String(parts[1])
        guard (1...2).contains(fraction.count), fraction.allSatisfy(\.isASCII), let value = Int(fraction) else { return nil }
        return whole * 100 + (fraction.count == 1 ? value * 10 : value)
    }

    mutating func readHealthCheck(_ node: Node) -> HealthCheck? {
        // `health_check: tcp` is short for `health_check: {type: tcp}`.
        if node.scalar != nil {
            return (reader.choice(node, "health_check") as HealthCheckKind?).map { HealthCheck(kind: $0, location: reader.location(node)) }
        }
        guard let fields = reader.fields(node, "health_check", allowed: Self.healthCheckKeys) else { return nil }
        guard let typeNode = fields["type"] else {
            reader.report(node, .missingKey("type", in: "'health_check' (http, tcp or none)"))
            return nil
        }
        guard let kind = reader.choice(typeNode, "health check type") as HealthCheckKind? else { return nil }
        var check = HealthCheck(kind: kind, location: reader.location(node))
        if let n = fields["path"], let path = reader.word(n, "path", pattern: Self.urlPathPattern, maxLength: 1024,
                                                          rule: "an absolute URL path like /health (letters, digits, / . _ ~ % ? = & + -)") {
            check.path = path
        }
        if let n = fields["status"] {
            let items = n.scalar != nil ? [n] : (reader.list(n, "status") ?? [])
            let codes = items.compactMap { reader.integer($0, "status code", in: 100...599) }
            if !codes.isEmpty { check.statusCodes = codes }
        }
        if let n = fields["text"] {
            check.text = reader.word(n, "text", pattern: Self.bodyTextPattern, maxLength: 200,
                                     rule: "up to 200 letters, digits, spaces and punctuation, without quotes or backslashes")
        }
        if let n = fields["interval"], let value = reader.integer(n, "health check interval", in: 1...3600) { check.interval = value }
        if let n = fields["timeout"], let value = reader.integer(n, "health check timeout", in: 1...600) { check.timeout = value }
        if let n = fields["retries"], let value = reader.integer(n, "health check retries", in: 1...100) { check.retries = value }
        if let n = fields["retry_delay"], let value = reader.integer(n, "retry_delay", in: 1...600) { check.retryDelay = value }
        if let n = fields["port"], let value = reader.integer(n, "health check port", in: 1...65535) { check.port = value }
        if let n = fields["inhibit_on_failure"], let value = reader.flag(n, "inhibit_on_failure") { check.inhibitOnFailure = value }
        for key in ["path", "status", "text"] where kind != .http {
            if let keyNode = fields.entries[key]?.key { reader.report(keyNode, .onlyForHTTPCheck(key)) }
        }
        return check
    }

    mutating func readSorryServer(_ node: Node, hosts: [InventoryHost], servicePort: Int) -> SorryServer? {
        guard let fields = reader.fields(node, "sorry_server", allowed: Self.sorryServerKeys) else { return nil }
        guard let hostNode = fields["host"] else { reader.report(node, .missingKey("host", in: "'sorry_server'")); return nil }
        guard let name = hostReference(hostNode, "sorry server host", hosts: hosts) else { return nil }
        var rip: IPAddress?
        if let n = fields["rip"] {
            rip = reader.address(n, "rip")
        } else if let host = hosts.first(where: { $0.name == name }), case let .success(address) = IPAddress.parse(host.address) {
            rip = address
        } else {
            reader.report(node, .missingKey("rip", in: "sorry server '\(name)' (its host's address is a name, not an IP)"))
        }
        var port = servicePort
        if let n = fields["port"], let value = reader.integer(n, "sorry server port", in: 0...65535) { port = value }
        guard let rip else { return nil }
        return SorryServer(host: name, rip: rip, port: port, location: reader.location(node))
    }
}
