import Foundation

/// One line of an OpenSSH `known_hosts` file.
public struct KnownHostsEntry: Sendable, Equatable {
    public enum Marker: Sendable, Equatable { case none, revoked, certAuthority }
    public enum Hosts: Sendable, Equatable {
        /// `host1,[host2]:2222,*.example.com,!bad.example.com`
        case patterns([String])
        /// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`
        case hashed(salt: [UInt8], hash: [UInt8])
    }

    public let file: String
    public let line: Int
    public let marker: Marker
    public let hosts: Hosts
    public let key: PublicKeyBlob

    public var keyType: String { key.keyType }

    /// Whether this entry names `hostName` (already in OpenSSH's `[host]:port` form when the port
    /// is not 22).
    func matches(_ hostName: String) -> Bool {
        switch hosts {
        case let .hashed(salt, hash):
            return Digest.hmacSHA1(key: salt, message: Array(hostName.utf8)) == hash
        case let .patterns(patterns):
            return KnownHosts.matches(patterns, hostName)
        }
    }
}

/// What the known_hosts files say about the key a server offered.
public enum HostKeyVerdict: Sendable, Equatable {
    case known(KnownHostsEntry)
    case unknown
    case changed(KnownHostsEntry)
    case revoked(KnownHostsEntry)
}

/// OpenSSH `known_hosts` files: plain and hashed entries, `[host]:port` names, `@revoked`.
///
/// Matching follows OpenSSH rather than libssh2 1.10: a name without a port only matches port 22,
/// and another port is looked up as `[host]:port`.
public struct KnownHosts: Sendable {
    public private(set) var entries: [KnownHostsEntry] = []

    public init(entries: [KnownHostsEntry] = []) { self.entries = entries }

    /// Reads the files that exist; a missing file is an empty one, as for OpenSSH.
    public static func load(files: [String]) -> KnownHosts {
        var all = KnownHosts()
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            all.entries += parse(text, file: file).entries
        }
        return all
    }

    public static func parse(_ text: String, file: String) -> KnownHosts {
        var entries: [KnownHostsEntry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let entry = parseLine(rawLine, file: file, line: index + 1) { entries.append(entry) }
        }
        return KnownHosts(entries: entries)
    }

    static func parseLine(_ rawLine: Substring, file: String, line: Int) -> KnownHostsEntry? {
        var fields = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let first = fields.first, !first.hasPrefix("#") else { return nil }
        var marker = KnownHostsEntry.Marker.none
        if first.hasPrefix("@") {
            switch first {
            case "@revoked": marker = .revoked
            case "@cert-authority": marker = .certAuthority
            default: return nil
            }
            fields.removeFirst()
        }
        guard fields.count >= 3, let key = PublicKeyBlob(base64: fields[2]) else { return nil }
        let hostField = fields[0]
        let hosts: KnownHostsEntry.Hosts
        if hostField.hasPrefix("|1|") {
            let parts = hostField.dropFirst(3).split(separator: "|")
            guard parts.count == 2,
                  let salt = Data(base64Encoded: String(parts[0])),
                  let hash = Data(base64Encoded: String(parts[1])) else { return nil }
            hosts = .hashed(salt: [UInt8](salt), hash: [UInt8](hash))
        } else {
            hosts = .patterns(hostField.split(separator: ",").map { $0.lowercased() })
        }
        return KnownHostsEntry(file: file, line: line, marker: marker, hosts: hosts, key: key)
    }

    /// The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise.
    public static func lookupName(host: String, port: Int) -> String {
        let lower = host.lowercased()
        return port == 22 ? lower : "[\(lower)]:\(port)"
    }

    /// A line to append for a newly trusted key.
    public static func line(host: String, port: Int, key: PublicKeyBlob) -> String {
        "\(lookupName(host: host, port: port)) \(key.keyType) \(key.base64)"
    }

    /// Entries (not certificate authorities) naming this host and port.
    public func entries(host: String, port: Int) -> [KnownHostsEntry] {
        let name = Self.lookupName(host: host, port: port)
        return entries.filter { $0.marker != .certAuthority && $0.matches(name) }
    }

    /// Key types known for this host, in file order, so the handshake can ask for one of them.
    public func knownKeyTypes(host: String, port: Int) -> [String] {
        var seen: [String] = []
        for entry in entries(host: host, port: port) where entry.marker == .none && !seen.contains(entry.keyType) {
            seen.append(entry.keyType)
        }
        return seen
    }

    public func verify(host: String, port: Int, key: PublicKeyBlob) -> HostKeyVerdict {
        let candidates = entries(host: host, port: port)
        if let revoked = candidates.first(where: { $0.marker == .revoked && $0.key == key }) {
            return .revoked(revoked)
        }
        let plain = candidates.filter { $0.marker == .none }
        if let known = plain.first(where: { $0.key == key }) { return .known(known) }
        if let changed = plain.first(where: { $0.keyType == key.keyType }) { return .changed(changed) }
        return .unknown
    }

    /// A pattern list as OpenSSH reads one (known_hosts names, ssh_config `Host`): a name matches
    /// if some pattern does and no `!pattern` does.
    static func matches(_ patterns: [String], _ name: String) -> Bool {
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if glob(String(pattern.dropFirst()), name) { return false }
            } else if glob(pattern, name) {
                matched = true
            }
        }
        return matched
    }

    /// `*` and `?` globbing, as OpenSSH's `match_pattern` (case already folded).
    static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, starP = -1, starT = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == t[ti]) {
                pi += 1; ti += 1
            } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
                starP = pi; starT = ti; pi += 1
            } else if starP >= 0 {
                pi = starP + 1; starT += 1; ti = starT
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// Appends one line, creating the file (0600) and its folder (0700) when missing, and
    /// starting on a new line if the file does not end with one.
    public static func append(_ line: String, to file: String) throws {
        let folder = (file as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        let fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: file])
        }
        defer { close(fd) }
        var text = line + "\n"
        if let existing = FileManager.default.contents(atPath: file), let last = existing.last, last != 0x0A {
            text = "\n" + text
        }
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }
}
