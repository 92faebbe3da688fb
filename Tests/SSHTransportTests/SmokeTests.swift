import Testing
import LVSLab
import SSHTransport

@Test func smoke() async throws {
    try await Lab.with(hosts: 2) { lab in
        for host in lab.hosts {
            let c = try await SSHConnection.connect(to: host.target, options: lab.sshOptions)
            let clock = ContinuousClock()
            let t0 = clock.now
            let r = try await c.run("hostname; echo err >&2; exit 3")
            print(host.name, r.standardOutput, r.standardError, r.status, clock.now - t0)
            var ds: [Duration] = []
            for _ in 0..<20 { let t = clock.now; _ = try await c.run("true"); ds.append(clock.now - t) }
            print(ds)
            await c.close()
        }
    }
}
