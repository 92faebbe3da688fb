import Foundation

/// Everything wrong with an inventory, each with a sentence saying how to fix it.
public enum InventoryProblem: Sendable, Equatable {
    case syntax(String)
    case wrongKind(field: String, expected: String)
    case unknownKey(String, suggestion: String?, allowed: [String])
    case missingKey(String, in: String)
    case duplicateKey(String, firstLine: Int)
    case pastedCharacter(Character, name: String, replacement: String)
    case badIPAddress(String, reason: String)
    case badAddressWithPrefix(String)
    case badNetmask(String)
    case outOfRange(field: String, value: String, range: ClosedRange<Int>)
    case portZeroWithoutPersistence
    case netmaskWithoutPersistence
    case thresholdsInverted(lower: Int, upper: Int)
    case unknownValue(field: String, value: String, suggestion: String?, allowed: [String])
    case badName(field: String, value: String, rule: String)
    case undefinedHost(String, field: String, suggestion: String?)
    case duplicateRealServer(IPAddress, port: Int, firstLine: Int)
    case duplicateService(String, firstLine: Int)
    case vipIsDIP(IPAddress)
    case vipIsRIP(IPAddress, host: String)
    case noServices
    case noRealServers(String)
    case portMapping(mode: ForwardingMode, realPort: Int, virtualPort: Int)
    case notInDIPSubnet(mode: ForwardingMode, rip: IPAddress, network: String)
    case mixedFamilies(vip: IPAddress, rip: IPAddress)
    case serviceAddressConflict(String)
    case clientIsDirector
    case directorIsRealServer(String)
    case samePage(host: String, other: String, page: String)
    case specialAddress(field: String, IPAddress, reason: String)
    case tooManyValues(Int)
    case unreadable(String)
    case jumpCycle([String])
    case emptyFile
    case controlCharacter(Int32)
    case tabIndentation
    case wrongFamily(field: String, expected: String)
    case natIPv6WithoutDIP6(IPAddress)
    case tunnelIPv6(IPAddress)
    case markWithoutPorts(Int)
    case portsWithoutMark
    case directorAndDirectors
    case badAdvertInterval(String, version: Int)
    case authWithVRRP3
    case onlyForHTTPCheck(String)
    case directorsWithoutVRRP(count: Int)
    case duplicateDirector(String, firstLine: Int)
    case priorityTie(host: String, other: String, priority: Int)
    case sorryServerIsRealServer(host: String)
    case healthCheckWithoutPort(mark: Int)
    case directorsApart(host: String, network: String, other: String)
    case natPairWithoutGateway
    case gatewayOutsideDIP(gateway: IPAddress, network: String)
    case jumpsThroughItself(String)
    case ipv4NetmaskOnIPv6(String)
    case duplicateDIP(IPAddress, other: String)
    case gatewayTaken(IPAddress, by: String)
    case vipIsHostAddress(IPAddress, host: String)
    case httpCheckOnUDP(String)
    case markTakesPort(mark: Int, port: Int, vip: IPAddress, other: String)
    case sorryServer(SorryServerProblem)
    case schedulerFlag(String, scheduler: Scheduler)
    case noBGPPeers
    case bgpWithVRRP
    case activeActiveNAT
    case activeActiveIPv6(IPAddress)
    case activeActiveScheduler(String, Scheduler)
    case activeActiveWithoutMHPort(String)
    case drainWithoutFallback(host: String, service: String)
    case directorDrainWithoutBGP(host: String)
    case everyDirectorDrained
    case peerIsDirector(IPAddress, host: String)
    case duplicateRouterID(IPAddress, host: String, other: String)
    case routerIDNeeded(host: String)

    /// What usually causes a YAML error, from the parser's words (an unclosed quote is not an
    /// indentation problem, and saying so sends people to the wrong place).
    static func syntaxHint(_ problem: String) -> String {
        let text = problem.lowercased()
        if text.contains("quoted scalar") || text.contains("escape") {
            return "A quote is left open, or a backslash in double quotes starts an unknown escape: close the quote, or use single quotes"
        }
        if text.contains("flow sequence") || text.contains("flow mapping") {
            return "A [ or { is not closed, or its items are not separated by commas: close it, or write the list one '- item' per line"
        }
        if text.contains("cannot start any token") {
            return "A value starts with a character YAML reserves (@, `, or a tab): put the value in quotes, and indent with spaces"
        }
        if text.contains("alias") || text.contains("anchor") {
            return "An alias (*name) names an anchor (&name) that is not defined above it: define the anchor first, or fix the name"
        }
        if text.contains("mapping values are not allowed") {
            return "A value holds ': ' (quote the value), or the line is indented deeper than the key above it"
        }
        return "Check indentation (spaces, not tabs) and that every ':' is followed by a space"
    }

    public var message: String {
        switch self {
        case let .syntax(text):
            return "the file is not valid YAML: \(text). \(Self.syntaxHint(text))"
        case let .wrongKind(field, expected):
            return "'\(field)' must be \(expected)"
        case let .unknownKey(key, suggestion, allowed):
            let hint = suggestion.map { "did you mean '\($0)'? " } ?? ""
            return "unknown key '\(key)': \(hint)allowed here: \(allowed.joined(separator: ", "))"
        case let .missingKey(key, context):
            return "\(context) needs '\(key)'"
        case let .duplicateKey(key, firstLine):
            return "'\(key)' is given twice (first on line \(firstLine)): keep one"
        case let .pastedCharacter(character, name, replacement):
            let code = character.unicodeScalars.map { String(format: "U+%04X", $0.value) }.joined(separator: " ")
            return "'\(character)' (\(code) \(name)) is not allowed here: it usually comes from copying a web page; type \(replacement) instead"
        case let .badIPAddress(text, reason):
            if text.contains("/"), case .success = IPAddress.parse(String(text.prefix { $0 != "/" })) {
                return "'\(text)' has a prefix length, and this takes one address: write it without '/\(text.split(separator: "/").last ?? "")'"
            }
            return "'\(text)' is not an IP address: \(reason)"
        case let .badAddressWithPrefix(text):
            return "'\(text)' must be an address with an optional prefix length, like 10.0.0.1/24"
        case let .jumpsThroughItself(host):
            return "host '\(host)' jumps through itself: 'jump' names another host to reach it through; remove it, or name that other host"
        case let .ipv4NetmaskOnIPv6(text):
            return "'\(text)' is an IPv4 netmask, and this service is IPv6: give a prefix length from 1 to 128, like 64"
        case let .duplicateDIP(address, other):
            return "DIP \(address) is also the DIP of director '\(other)': each director needs an address of its own on the real servers' network"
        case let .gatewayTaken(gateway, by):
            return "the NAT gateway \(gateway) is already \(by): the gateway is the address the directors share for the real servers' replies; give it a free address of the DIP network"
        case let .vipIsHostAddress(vip, host):
            return "VIP \(vip) is the address of host '\(host)': the VIP must be an address of its own, or the director would take that host's address"
        case let .httpCheckOnUDP(service):
            return "an HTTP health check cannot check UDP service \(service): HTTP runs over TCP. Use 'type: none', or check a TCP port the real servers open with 'type: tcp' and 'port'"
        case let .markTakesPort(mark, port, vip, other):
            return "firewall-mark service \(mark) marks port \(port) of \(vip), which service \(other) expects: IPVS looks up the mark first, so that service would get nothing. Drop port \(port) from one of them"
        case let .sorryServer(problem):
            return problem.message
        case let .badNetmask(text):
            return "'\(text)' is not a netmask: give a contiguous mask like 255.255.255.0 or a prefix length like 24"
        case let .outOfRange(field, value, range):
            return "\(field) \(value) is out of range: it must be a whole number from \(range.lowerBound) to \(range.upperBound)"
        case .portZeroWithoutPersistence:
            return "port 0 (all ports) needs persistence: add 'persistence: 300' to this service, as ipvsadm requires"
        case .netmaskWithoutPersistence:
            return "'netmask' only applies to persistent services: add 'persistence' or remove 'netmask'"
        case let .thresholdsInverted(lower, upper):
            return "lower threshold \(lower) is above upper threshold \(upper): the lower one (-y) must be at most the upper one (-x)"
        case let .unknownValue(field, value, suggestion, allowed):
            let hint = suggestion.map { "did you mean '\($0)'? " } ?? ""
            return "unknown \(field) '\(value)': \(hint)use one of \(allowed.joined(separator: ", "))"
        case let .badName(field, value, rule):
            return "\(field) '\(value)' is not allowed: \(rule)"
        case let .undefinedHost(name, field, suggestion):
            let hint = suggestion.map { " (did you mean '\($0)'?)" } ?? ""
            return "\(field) '\(name)' is not defined under 'hosts'\(hint): add it there or fix the name"
        case let .duplicateRealServer(rip, port, firstLine):
            return "real server \(rip.withPort(port)) is listed twice in this service (first on line \(firstLine)): remove one, or give it a higher weight instead"
        case let .duplicateService(service, firstLine):
            return "virtual service \(service) is defined twice (first on line \(firstLine)): merge their real servers into one service"
        case let .vipIsDIP(vip):
            return "VIP \(vip) is also the director's DIP: the VIP must be an address of its own"
        case let .vipIsRIP(vip, host):
            return "VIP \(vip) is also the RIP of real server '\(host)': the VIP must be an address of its own"
        case .noServices:
            return "the cluster has no virtual services: add at least one under 'services'"
        case let .noRealServers(service):
            return "virtual service \(service) has no real servers: add at least one under 'real_servers'"
        case let .portMapping(mode, realPort, virtualPort):
            return "\(mode == .directRouting ? "DR" : "TUN") cannot map ports: real server port \(realPort) differs from the virtual service's port \(virtualPort). Use the same port, or NAT mode"
        case let .notInDIPSubnet(mode, rip, network):
            let why = mode == .nat ? "NAT real servers use the DIP as their gateway" : "in DR the director and real servers must share a layer-2 network"
            return "real server \(rip) is not in the director's network \(network): \(why). Fix the RIP or the DIP's prefix"
        case let .mixedFamilies(vip, rip):
            return "VIP \(vip) and RIP \(rip) are of different address families: use IPv4 for both or IPv6 for both"
        case let .serviceAddressConflict(text):
            return text
        case .clientIsDirector:
            return "the client is the director: IPVS does not balance connections that start on the director itself; pick another host"
        case .emptyFile:
            return "the file holds nothing: an inventory needs 'hosts' and 'cluster' (inventories/example.yml shows every key)"
        case let .controlCharacter(value):
            return "control character U+\(String(format: "%04X", value)) is not allowed in YAML: delete it (it often comes from a binary file or a bad copy)"
        case .tabIndentation:
            return "this line is indented with a tab: YAML indents with spaces only"
        case let .jumpCycle(path):
            return "jump hosts go round in a circle (\(path.joined(separator: " → "))): the last jump host must be reachable directly"
        case let .unreadable(reason):
            return "cannot read the inventory: \(reason)"
        case let .tooManyValues(limit):
            return "the file holds more than \(limit) values once its aliases are expanded (aliases of aliases double at each level): write the repeated parts out, or share them with fewer levels of aliases"
        case let .specialAddress(field, address, reason):
            return "\(field) \(address) cannot be used: \(reason). Give the address of one host"
        case let .samePage(host, other, page):
            return "real servers '\(other)' and '\(host)' would both serve the test page \"\(page)\": verify could not tell them apart. Put {host} or {rip} in test_page, or give one its own 'page'"
        case let .wrongFamily(field, expected):
            return "\(field) must be an \(expected) address"
        case let .natIPv6WithoutDIP6(vip):
            return "NAT real servers send their replies through the director, and VIP \(vip) is IPv6: give the director's IPv6 address on the real servers' network as dip6 (e.g. dip6: fd00:2::1/64 under director)"
        case let .tunnelIPv6(vip):
            return "TUN with IPv6 VIP \(vip) needs IPv6-in-IPv6 tunnels (ip6tnl), which lvsctl does not set up: use mode nat or dr for IPv6 services"
        case let .markWithoutPorts(mark):
            return "firewall-mark service \(mark) does not say which traffic gets the mark: add ports: [80, 8080] (and protocol: udp for UDP), so only those ports of the VIP are marked"
        case let .schedulerFlag(word, scheduler):
            let words = SchedulerFlag.schedulers.flatMap { s in SchedulerFlag.allCases.map { $0.word(for: s) } }
            if SchedulerFlag.schedulers.contains(scheduler) {
                let own = SchedulerFlag.allCases.map { $0.word(for: scheduler) }
                let same = SchedulerFlag.allCases.first { word.hasSuffix("-" + $0.rawValue) }.map { "write '\($0.word(for: scheduler))'; " } ?? ""
                return "'\(word)' is not a flag of the \(scheduler.rawValue) scheduler: \(same)its flags are \(own.joined(separator: " and ")) (\(scheduler.rawValue)-port hashes the client's port too, \(scheduler.rawValue)-fallback moves a flow whose real server has weight 0 to the next one)"
            }
            return "scheduler \(scheduler.rawValue) takes no flags: \(words.joined(separator: ", ")) belong to the sh and mh schedulers; remove 'flags' or set scheduler: sh or mh"
        case .noBGPPeers:
            return "'bgp' needs the routers to announce the VIPs to: add peers: [{ address: ROUTER, as: ITS_AS }]"
        case .bgpWithVRRP:
            return "give either 'vrrp' (a pair: one director active, the other waiting) or 'bgp' (every director active behind the routers' ECMP), not both"
        case .activeActiveNAT:
            return "NAT cannot run on active-active directors: a NAT director must see the replies of the connections it forwards, and the routers' ECMP would not bring them back to it. Use mode dr or tun with bgp"
        case let .activeActiveIPv6(vip):
            return "VIP \(vip) is IPv6: active-active directors announce IPv4 VIPs only (lvsctl does not set up IPv6 BGP sessions yet). Use an IPv4 VIP here, or a keepalived pair"
        case let .activeActiveScheduler(service, scheduler):
            return "service \(service) uses scheduler \(scheduler.rawValue): active-active directors must each send a flow to the same real server, which only mh (Maglev hashing, the same table on every director) does. Set scheduler: mh and flags: [mh-port, mh-fallback]"
        case let .activeActiveWithoutMHPort(service):
            return "service \(service) hashes the client's address only: every connection of one client would land on one real server. Add mh-port to its flags: [mh-port, mh-fallback]"
        case let .drainWithoutFallback(host, service):
            return "real server '\(host)' has weight 0 in service \(service), whose mh has no mh-fallback: the flows its hash gives that server would be dropped, not moved. Add mh-fallback to the service's flags"
        case let .directorDrainWithoutBGP(host):
            return "director '\(host)' has drain: true, which takes an active-active director out of the routers' ECMP; without bgp there is nothing to withdraw. Remove drain, or make the directors active-active with a bgp block"
        case .everyDirectorDrained:
            return "every director has drain: true: nothing would announce the VIPs and the routers would drop their traffic. Keep at least one director in service"
        case let .peerIsDirector(address, host):
            return "BGP peer \(address) is director '\(host)': a peer is a router the directors announce to, not one of them. Give the router's address"
        case let .duplicateRouterID(id, host, other):
            return "directors '\(other)' and '\(host)' would both use BGP router id \(id): give one of them its own, router_id: ADDRESS"
        case let .routerIDNeeded(host):
            return "director '\(host)' has an IPv6 DIP, and a BGP router id is an IPv4 address: give it one, router_id: ADDRESS"
        case .portsWithoutMark:
            return "'ports' lists the ports a firewall mark groups: add fwmark: N, or use 'port' for a one-port service"
        case .directorAndDirectors:
            return "give either 'director' (one) or 'directors' (a keepalived pair), not both: move this director into the 'directors' list"
        case let .badAdvertInterval(raw, version):
            return version == 3
                ? "advert_int '\(raw)' is not one keepalived accepts with VRRPv3: give seconds from 0.01 to 40.95 in steps of 0.01"
                : "advert_int '\(raw)' is not one keepalived accepts with VRRPv2: give whole seconds from 1 to 255, or set version: 3 for steps of 0.01 s"
        case .authWithVRRP3:
            return "VRRPv3 has no authentication (RFC 5798 removed it): remove 'auth' or use version: 2"
        case let .onlyForHTTPCheck(key):
            return "'\(key)' only applies to an http health check: remove it, or set type: http"
        case let .directorsWithoutVRRP(count):
            return "\(count) directors need 'vrrp' under 'cluster' (at least router_id: 1-255) so keepalived can decide which one holds the VIP"
        case let .duplicateDirector(host, firstLine):
            return "director '\(host)' is listed twice (first on line \(firstLine)): remove one"
        case let .priorityTie(host, other, priority):
            return "directors '\(other)' and '\(host)' both have VRRP priority \(priority): give each its own (the highest is master)"
        case let .sorryServerIsRealServer(host):
            return "sorry server '\(host)' is also a real server of this service: keepalived would use it for both; give the sorry server a host of its own"
        case let .healthCheckWithoutPort(mark):
            return "firewall-mark service \(mark) has no port of its own to check: add port: N under health_check"
        case let .directorsApart(host, network, other):
            return "director '\(host)' is not in director '\(other)''s network \(network): in DR the directors and real servers must share one layer-2 network, so the VIP can move. Fix the DIPs or their prefixes"
        case .natPairWithoutGateway:
            return "NAT with two directors needs a gateway address the master holds (the real servers route their replies through it): add gateway: ADDRESS/PREFIX under vrrp, in the DIPs' network and used by no host"
        case let .gatewayOutsideDIP(gateway, network):
            return "vrrp gateway \(gateway) is not in the directors' network \(network): the real servers could not reach it"
        case let .directorIsRealServer(host):
            return "host '\(host)' is both the director and a real server: give the real server a host of its own"
        }
    }
}

/// One problem at one place in one file.
public struct InventoryDiagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    public let location: SourceLocation
    public let problem: InventoryProblem
    public var description: String { "\(location): error: \(problem.message)" }
}

/// All problems found in an inventory; nothing is touched while there is one.
public struct InventoryErrors: Error, Sendable, CustomStringConvertible {
    public let diagnostics: [InventoryDiagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
