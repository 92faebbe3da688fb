import Foundation
import SSHTransport

extension Lab {
    /// Builds the hosts. Labs left behind by a process that died are removed first.
    public static func create(_ specs: [LabHostSpec]) async throws -> Lab {
        guard !specs.isEmpty && specs.count <= LabTopology.flatMaximum else {
            throw LabError("a lab holds 1 to \(LabTopology.flatMaximum) hosts (asked for \(specs.count)): each is a network namespace with its own sshd on this machine")
        }
        guard Set(specs.map(\.name)).count == specs.count else { throw LabError("lab host names must be unique") }
        try FileManager.default.createDirectory(atPath: stateRoot, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        await reapAbandoned()
        let (index, directory) = try claimSubnet()
        let password = "lab-" + UUID().uuidString.prefix(12).lowercased()
        let topology = LabTopology.flat(index: index, specs: specs)
        // Written first, so a lab that fails half-way (or whose process dies) can still be removed.
        try topology.teardownScript(directory: directory)
            .write(toFile: directory + "/teardown.sh", atomically: true, encoding: .utf8)
        do {
            let setup = topology.setupScript(directory: directory, password: password) { host in
                host.spec.sshPort == 22 ? host.sshAddress : "[\(host.sshAddress)]:\(host.spec.sshPort)"
            }
            try await Shell.bashChecked(setup, what: "building lab hosts")
            let hosts = try specs.enumerated().map { offset, spec in
                try loadHost(spec, number: offset + 1, index: index, directory: directory)
            }
            return Lab(index: index, directory: directory, hosts: hosts, rootPassword: password)
        } catch {
            _ = try? await Shell.bash("bash \(Shell.quote(directory + "/teardown.sh"))")
            throw error
        }
    }

    /// Claims a free 10.200.K.0/24 by creating its state folder (mkdir is atomic across
    /// processes) and checking no route on this machine already uses it.
    private static func claimSubnet() throws -> (Int, String) {
        for index in 1...250 {
            let directory = "\(stateRoot)/net\(index)"
            guard mkdir(directory, 0o755) == 0 else { continue }
            let routes = (try? String(contentsOfFile: "/proc/net/route", encoding: .utf8)) ?? ""
            // /proc/net/route lists destinations as little-endian hex: 10.200.K.0 -> 00KKC80A
            let hex = String(format: "00%02XC80A", index)
            if routes.contains(hex) { continue }   // keep the folder: that subnet is taken
            try String(getpid()).write(toFile: directory + "/owner.pid", atomically: true, encoding: .utf8)
            return (index, directory)
        }
        throw LabError("no free lab subnet in 10.200.1-250.0/24 (remove stale labs in \(stateRoot))")
    }

    /// Tears down labs whose owning process is gone (a test run killed mid-way).
    static func reapAbandoned() async {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: stateRoot) else { return }
        for entry in entries where entry.hasPrefix("net") {
            let directory = "\(stateRoot)/\(entry)"
            guard let text = try? String(contentsOfFile: directory + "/owner.pid", encoding: .utf8),
                  let owner = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                  kill(owner, 0) != 0 && errno == ESRCH else { continue }
            _ = try? await Shell.bash("bash \(Shell.quote(directory + "/teardown.sh")); rm -rf \(Shell.quote(directory))")
        }
    }

    private static func loadHost(_ spec: LabHostSpec, number: Int, index: Int, directory: String) throws -> LabHost {
        let folder = "\(directory)/\(spec.name)"
        let pidText = try String(contentsOfFile: folder + "/sshd.pid", encoding: .utf8)
        guard let pid = Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw LabError("sshd of lab host \(spec.name) wrote no PID")
        }
        let keys = try spec.hostKeyTypes.map { type -> PublicKeyBlob in
            let line = try String(contentsOfFile: "\(folder)/ssh_host_\(type)_key.pub", encoding: .utf8)
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let blob = PublicKeyBlob(base64: fields[1]) else {
                throw LabError("cannot read the \(type) host key of \(spec.name)")
            }
            return blob
        }
        return LabHost(name: spec.name, address: LabTopology.flatAddress(index: index, number: number), sshPort: spec.sshPort,
                       namespace: "lvs\(index)-\(spec.name)", sshdPID: pid, hostKeys: keys)
    }
}
