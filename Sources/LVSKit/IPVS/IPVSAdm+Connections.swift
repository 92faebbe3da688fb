/// IPVS's connection entries in ipvsadm's words: `ipvsadm -L -n -c` prints a line per entry,
/// `TCP 14:58  ESTABLISHED 192.168.0.100:20001 192.168.0.200:80   10.0.0.11:80` (protocol,
/// time left, state, client, virtual service, real server), under two header lines.
public struct IPVSConnectionEntry: Hashable, Sendable {
    public var protocolName: String
    public var state: String
    public var client: Endpoint
    public var virtual: Endpoint
    public var destination: Endpoint
}

extension IPVSAdm {
    public static let readConnectionEntries = "ipvsadm -L -n -c"

    /// Every entry of a `-L -n -c` listing (a firewall-mark service's virtual column, `FWM 5`,
    /// and anything else that does not read as an entry is left out).
    public static func connectionEntries(listing: String) -> [IPVSConnectionEntry] {
        listing.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ").map(String.init)
            guard words.count == 6, let client = Endpoint(parsing: words[3]), let virtual = Endpoint(parsing: words[4]),
                  let destination = Endpoint(parsing: words[5]) else { return nil }
            return IPVSConnectionEntry(protocolName: words[0], state: words[2], client: client, virtual: virtual, destination: destination)
        }
    }
}
