/// The VRRP side of a director pair, in keepalived's words: which router the directors are
/// together, where they speak, how often, and whether they sync IPVS connections.
public struct VRRP: Sendable, Equatable {
    /// `virtual_router_id`, 1–255: unique among the VRRP routers of the segment.
    public var routerID: Int
    /// The interface VRRP advertises on (default: the directors' outer interface).
    public var interface: String?
    /// `advert_int` in hundredths of a second (VRRPv2 takes whole seconds only).
    public var advertCentiseconds: Int = 100
    /// 2 or 3: VRRPv3 allows advert intervals in 10 ms steps.
    public var version: Int = 2
    /// false: a returning director with a higher priority does not take the VIP back (`nopreempt`).
    public var preempt = true
    /// `authentication { auth_type PASS }` (VRRPv2 only; at most 8 characters).
    public var password: String?
    /// `lvs_sync_daemon`: the backup keeps the master's connection entries, so established
    /// connections survive a failover.
    public var sync = false
    /// NAT with two directors: the real servers' gateway, held by the master like the VIP (each
    /// director's own `dip` stays its own).
    public var gateway: AddressWithPrefix?
    public var location: SourceLocation

    public init(routerID: Int, location: SourceLocation) {
        self.routerID = routerID
        self.location = location
    }

    /// `advert_int` as keepalived reads it: `1`, `0.5`, `0.05`.
    public var advertInterval: String {
        let whole = advertCentiseconds / 100, hundredths = advertCentiseconds % 100
        if hundredths == 0 { return String(whole) }
        return hundredths % 10 == 0 ? "\(whole).\(hundredths / 10)" : "\(whole).\(hundredths < 10 ? "0" : "")\(hundredths)"
    }
}

/// How keepalived decides a real server is up.
public enum HealthCheckKind: String, Sendable, CaseIterable {
    /// `HTTP_GET`: a status code (and optionally a text in the body) from a path.
    case http
    /// `TCP_CHECK`: a connection is accepted.
    case tcp
    /// No checker: every real server counts as up (keepalived still owns the table).
    case none
}

/// A service's health check (keepalived's checker and its `delay_loop`).
public struct HealthCheck: Sendable, Equatable {
    public var kind: HealthCheckKind
    public var path = "/"
    public var statusCodes = [200]
    /// Text the answer's body must contain (HTTP_GET's `regex`, matched literally).
    public var text: String?
    /// `delay_loop`: seconds between checks of one real server.
    public var interval = 6
    /// `connect_timeout`, seconds.
    public var timeout = 3
    /// `retry`: failed checks in a row before the server counts as down.
    public var retries = 1
    /// `delay_before_retry`, seconds.
    public var retryDelay = 1
    /// The port to check, when it is not the real server's (a firewall-mark service has none).
    public var port: Int?
    /// Weight 0 instead of removal while a server is down (`inhibit_on_failure`).
    public var inhibitOnFailure = false
    public var location: SourceLocation

    public init(kind: HealthCheckKind, location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// The longest a failure takes to be noticed: a full interval, then the retries with their
    /// timeouts and delays.
    public var worstDetectionSeconds: Int { interval + retries * (timeout + retryDelay) }
}

/// The server that answers while no real server of a service is up (`sorry_server`).
public struct SorryServer: Sendable, Equatable {
    public var host: String
    public var rip: IPAddress
    public var port: Int
    public var endpoint: Endpoint { Endpoint(rip, port: port) }
    public var location: SourceLocation

    /// The sorry server as a host the cluster provisions: it gets what a real server of its
    /// service gets (the VIP in DR and TUN, its page, its web server), with no weight of its own.
    public var asRealServer: RealServer { RealServer(host: host, rip: rip, port: port, location: location) }
}

extension VirtualService {
    /// Every host that answers this service's clients: its real servers, then its sorry server.
    public var answeringServers: [RealServer] { realServers + (sorryServer.map { [$0.asRealServer] } ?? []) }
}

extension Inventory {
    /// keepalived runs on the directors: health checks, a sorry server or a director pair ask for it.
    public var usesKeepalived: Bool {
        (directors.count > 1 && bgp == nil) || vrrp != nil || services.contains { $0.healthCheck != nil || $0.sorryServer != nil }
    }

    /// keepalived's VRRP holds the VIPs (and NAT's gateway); otherwise lvsctl adds them.
    public var vipsHeldByVRRP: Bool { vrrp != nil }

    /// keepalived's notify script writes each director's VRRP state for Prometheus: a pair
    /// whose inventory asks for metrics.
    public var notifiesVRRPState: Bool { vrrp != nil && options.metrics != nil }

    /// The address NAT's real servers route their replies through.
    public var natGateway: IPAddress { vrrp?.gateway?.address ?? director.dip.address }

    public func director(named name: String) -> Director? { directors.first { $0.host == name } }
}
