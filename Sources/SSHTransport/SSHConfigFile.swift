import Foundation

/// The parts of an OpenSSH client config (`~/.ssh/config`) lvsctl honours: `Host` blocks with
/// patterns, and HostName, Port, User, IdentityFile, UserKnownHostsFile, StrictHostKeyChecking,
/// ProxyJump, ConnectTimeout. As in OpenSSH, the first value found for a key wins.
public struct SSHConfigFile: Sendable {
    struct Block: Sendable {
        let patterns: [String]
        var options: [(String, String)]
    }
    private var blocks: [Block] = []

    public init() {}

    public static func load(_ path: String) -> SSHConfigFile {
        guard let text = try? String(contentsOfFile: expandTilde(path), encoding: .utf8) else { return SSHConfigFile() }
        return parse(text)
    }

    public static func parse(_ text: String) -> SSHConfigFile {
        var config = SSHConfigFile()
        var current = Block(patterns: ["*"], options: [])
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            // `Key value`, `Key=value`, `Key = value`
            let parts = line.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" || $0 == "=" })
            guard parts.count == 2 else { continue }
            let key = parts[0].lowercased()
            let value = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: " \t=\""))
            if key == "host" {
                config.blocks.append(current)
                current = Block(patterns: value.split(separator: " ").map { $0.lowercased() }, options: [])
            } else if key == "match" {
                config.blocks.append(current)
                current = Block(patterns: [], options: [])   // Match blocks are not interpreted: never apply
            } else {
                current.options.append((key, value))
            }
        }
        config.blocks.append(current)
        return config
    }

    /// The options that apply to `host` (the name as given), first value of each key.
    public func options(for host: String) -> [String: String] {
        var found: [String: String] = [:]
        let name = host.lowercased()
        for block in blocks where KnownHosts.matches(block.patterns, name) {
            for (key, value) in block.options where found[key] == nil { found[key] = value }
        }
        return found
    }
}
