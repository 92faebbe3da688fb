/// What the bird lvsctl runs on an active-active director says of itself (`birdc show
/// protocols`): each BGP session with a router, and each VIP's static protocol, which is what the
/// sessions announce.
public struct BirdState: Codable, Sendable, Equatable {
    public struct ProtocolState: Codable, Sendable, Equatable {
        /// `lvsctl_peer0`, `lvsctl_vip0`
        public var name: String
        /// `BGP`, `Static`, `BFD`
        public var kind: String
        /// `up`, `start`, `down`, `disabled`…
        public var state: String
        public var since: String
        /// BGP's session state (`Established`, `Active`, `Connect`) and its last error.
        public var info: String

        public init(name: String, kind: String, state: String, since: String, info: String) {
            self.name = name
            self.kind = kind
            self.state = state
            self.since = since
            self.info = info
        }
    }

    public var host: String
    /// lvsctl's protocols only (Debian's own bird, if any, is not this one).
    public var protocols: [ProtocolState] = []
    /// Why bird could not be asked (not running, the director unreachable).
    public var error: String?

    public init(host: String, protocols: [ProtocolState] = [], error: String? = nil) {
        self.host = host
        self.protocols = protocols
        self.error = error
    }

    /// Asks lvsctl's bird over its own control socket.
    public static var script: String {
        "birdc -s '\(BirdConfig.runDirectory)/bird.ctl' show protocols 2>&1 || echo '@@lvsctl-bird-unreachable'"
    }

    /// `Name Proto Table State Since Info` rows; anything else (the banner, an error) is kept as
    /// the error when no row of lvsctl's came.
    public static func parse(_ text: String, host: String) -> BirdState {
        var state = BirdState(host: host)
        var other: [String] = []
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if words.count >= 5, words[0].hasPrefix("lvsctl_") {
                state.protocols.append(ProtocolState(name: words[0], kind: words[1], state: words[3], since: words[4],
                                                     info: words.dropFirst(5).joined(separator: " ")))
            } else if !line.hasPrefix("BIRD ") && !line.hasPrefix("Name ") && !line.hasPrefix("@@lvsctl") && !words.isEmpty {
                other.append(String(line))
            }
        }
        if state.protocols.isEmpty { state.error = other.isEmpty ? "bird answered nothing" : other.joined(separator: " ") }
        return state
    }

    /// Whether any session with a router is established: what makes the VIPs announced at all.
    public var established: Bool { protocols.contains { $0.kind == "BGP" && $0.info.hasPrefix("Established") } }

    /// `status`'s lines for this director.
    /// - meanings: what each protocol name stands for (`BirdConfig.protocolMeanings`).
    public func lines(_ meanings: [(name: String, meaning: String)]) -> [String] {
        if let error { return ["  \(host): bird: \(error)"] }
        var lines = ["  \(host): bird running, \(established ? "announcing" : "announcing to no router (no session established)")"]
        for (name, meaning) in meanings {
            guard let found = protocols.first(where: { $0.name == name }) else {
                lines.append("    \(meaning): not in bird's configuration")
                continue
            }
            let words: String
            if found.kind == "BGP" {
                words = found.info.isEmpty ? found.state : found.info
            } else {
                words = found.state == "up" ? (established ? "announced" : "not announced (no session)") : "withdrawn (\(found.state))"
            }
            lines.append("    \(meaning.padding(toLength: 30, withPad: " ", startingAt: 0)) \(words)  since \(found.since)")
        }
        return lines
    }
}
