import Foundation
import LVSKit
import LVSLab
import LVSRunner
import Testing

/// Issue 19's failure drills on the lab VM: with long-lived connections open through the VIP
/// and a loop of new requests, director2 is lost three ways while the director carries on. A
/// connection the router moves to the director mid-way must reach the same real server there
/// (sloppy TCP, equal Maglev tables) and complete.
enum DirectorLoss: String, CaseIterable, Sendable {
    /// bird stopped (SIGTERM): its sessions close, the router withdraws at once.
    case birdStopped = "bird stopped"
    /// Both links down for 6 s (then up again, its routes put back): only BFD can tell.
    case linksDown = "links down"
    /// The links down, then bird killed (SIGKILL): the director as a machine that lost its
    /// power (IPVS, in the kernel, cannot be killed apart from the links). In that order: bird
    /// killed first, its kernel closes the BGP session (a FIN the router gets at once), which a
    /// machine without power never sends.
    case poweredOff = "powered off"

    /// Run on director2, detached (its links may go): writes the moment of the loss to `stamp`.
    func command(stamp: String) -> String {
        // IPv6 addresses go with a link that goes down unless told to stay; routes through it go
        // for good: both kept and put back (added: `replace` would swap fe80::/64 between the
        // links, one route per prefix and metric), so the host ends as it was.
        let keep = "/proc/sys/net/ipv6/conf"
        let prepare = """
            k0=$(cat \(keep)/eth0/keep_addr_on_down); k1=$(cat \(keep)/eth1/keep_addr_on_down); \
            echo 1 > \(keep)/eth0/keep_addr_on_down; echo 1 > \(keep)/eth1/keep_addr_on_down; \
            routes=$(ip route show); routes6=$(ip -6 route show)
            """
        let pid = "pid=$(cat \(BirdConfig.runDirectory)/bird.pid)"
        let down = "ip link set eth0 down; ip link set eth1 down"
        let restore = """
            sleep 6; ip link set eth0 up; ip link set eth1 up; sleep 0.5; \
            printf '%s\\n' "$routes" | while read -r r; do ip route add $r 2>/dev/null; done; \
            printf '%s\\n' "$routes6" | while read -r r; do ip -6 route add $r 2>/dev/null; done; \
            echo $k0 > \(keep)/eth0/keep_addr_on_down; echo $k1 > \(keep)/eth1/keep_addr_on_down
            """
        // The moment is taken just before the loss itself, after what only prepares it.
        let loss: String
        switch self {
        case .birdStopped: loss = "\(pid); date +%s.%N > \(stamp); kill $pid"
        case .linksDown: loss = "\(prepare); date +%s.%N > \(stamp); \(down); \(restore)"
        case .poweredOff: loss = "\(pid); \(prepare); date +%s.%N > \(stamp); \(down); kill -9 $pid; \(restore)"
        }
        return "rm -f \(stamp); setsid sh -c '\(loss.replacingOccurrences(of: "'", with: "'\\''"))' </dev/null >/dev/null 2>&1 &"
    }

    /// bird does not come back by itself: `up` restarts it (its check finds no process).
    var needsUp: Bool { self != .linksDown }
}

/// `count` connections through the VIP held open for `hold` seconds, each sending one header
/// line every half second (so packets keep crossing whichever director the router picks), then
/// the request's end; each must be answered 200 by a real server: a connection moved to a
/// director whose table sent it elsewhere would meet a reset there. Connection `i` comes from
/// the client's port `firstPort + i`, so that the directors' entries name it.
struct HeldConnections {
    let lab: VMLab
    let base: String
    let ports: Range<Int>

    static let program = #"""
    import socket, sys, time
    base, host, n, hold, first = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    results, held = {}, {}
    for i in range(n):
        try:
            s = socket.create_connection((host, 80), timeout=3, source_address=("", first + i))
            s.sendall(b"GET / HTTP/1.0\r\nHost: lab\r\n")
            held[i] = s
        except Exception as error:
            results[i] = "connect-" + type(error).__name__
    open(base + ".ready", "w").write("%d\n" % len(held))
    start = time.monotonic()
    while time.monotonic() - start < hold:
        time.sleep(0.5)
        for i, s in list(held.items()):
            try:
                s.sendall(b"X-Held: %d\r\n" % i)
            except Exception as error:
                results[i] = "send-" + type(error).__name__
                del held[i]
    deadline = time.monotonic() + 15
    for i, s in held.items():
        data = b""
        try:
            s.sendall(b"\r\n")
            while True:
                s.settimeout(max(0.1, deadline - time.monotonic()))
                chunk = s.recv(65536)
                if not chunk: break
                data += chunk
        except Exception as error:
            results[i] = "answer-" + type(error).__name__
            continue
        page = data.split(b"RealServer")
        ok = data.startswith(b"HTTP/1.") and data.split(b" ")[1] == b"200" and len(page) > 1
        results[i] = "ok" if ok else "bad-answer"
    with open(base + ".out", "w") as out:
        for i in range(n): out.write("%d %s\n" % (i, results.get(i, "lost")))
    """#

    /// Opens the connections; answers once all are open.
    static func start(_ lab: VMLab, count: Int, hold: Double, firstPort: Int) async throws -> HeldConnections {
        let script = "\(lab.folder)/held-connections.py"
        try program.write(toFile: script, atomically: true, encoding: .utf8)
        let held = HeldConnections(lab: lab, base: "/tmp/lvsctl-held-\(getpid())-\(UUID().uuidString.prefix(6))", ports: firstPort..<(firstPort + count))
        _ = try await lab.run("client", """
            setsid python3 \(script) \(held.base) \(LabScenario.vip) \(count) \(hold) \(firstPort) </dev/null > \(held.base).err 2>&1 &
            for i in $(seq 300); do [ -e \(held.base).ready ] && break; sleep 0.1; done
            """)
        return held
    }

    /// Each connection's end (`ok`, or what broke it), once all have ended (at most `timeout` s).
    func results(timeout: Int = 60) async throws -> [String] {
        let text = try await lab.run("client", """
            for i in $(seq \(timeout * 10)); do [ -e \(base).out ] && break; sleep 0.1; done
            cat \(base).out \(base).err 2>/dev/null; rm -f \(base).*
            """)
        return text.split(separator: "\n").compactMap { line in line.split(separator: " ").dropFirst().first.map(String.init) }
    }

    /// The directors whose IPVS tables hold an entry of each held connection (by its port).
    func directorsCarrying(_ directors: [String]) async throws -> [Int: Set<String>] {
        var carrying: [Int: Set<String>] = [:]
        for director in directors {
            for entry in IPVSAdm.connectionEntries(listing: try await lab.run(director, IPVSAdm.readConnectionEntries))
            where entry.virtual.port == 80 && ports.contains(entry.client.port) {
                carrying[entry.client.port, default: []].insert(director)
            }
        }
        return carrying
    }
}

/// What one drill measured.
struct DirectorLossResult: CustomStringConvertible {
    var loss: DirectorLoss
    var intact: Int, held: Int
    /// The held connections director2 was carrying when it was lost.
    var throughLost: Int
    /// The other held connections that met another director than their own, on the loss or
    /// on director2's return (the router's ECMP moved them).
    var othersMoved: Int
    var newRequests: Int, newFailed: Int
    var longestGap: Double
    /// From the loss to the router's route without director2.
    var withdrawn: Double?

    var description: String {
        "\(loss.rawValue): \(intact) of \(held) long-lived connections intact (\(throughLost) were on director2, "
            + "\(othersMoved) of the others changed director); "
            + "\(newFailed) of \(newRequests) new requests failed (longest gap \(String(format: "%.2f", longestGap)) s); "
            + "director2's next hop gone after \(withdrawn.map { String(format: "%.2f", $0) } ?? "never") s"
    }
}

extension VMLabEndToEndTests {
    /// Loses director2 (one of `directors`, all announcing) one way under 100 held connections
    /// (from client ports `firstPort`…, unused by earlier drills) and a request loop, brings it
    /// back (`up` where bird must be restarted), and counts what survived and what moved.
    static func loseDirector2(_ lab: VMLab, _ cluster: LabCluster, _ loss: DirectorLoss, directors: [String], firstPort: Int) async throws -> DirectorLossResult {
        let held = try await HeldConnections.start(lab, count: 100, hold: 12, firstPort: firstPort)
        let loop = try await ClientLoop.start(lab, vip: LabScenario.vip)
        try await Task.sleep(for: .seconds(1))
        let before = try await held.directorsCarrying(directors)
        let stamp = "/root/lvsctl-loss-stamp"
        _ = try await lab.run("director2", loss.command(stamp: stamp))
        // The router's next hops, read on the client every 20 ms until director2's is gone.
        let withdrawnAt = try await lab.run("client", """
            for i in $(seq 500); do
              [ "$(ip route show \(LabScenario.vip)/32 | grep -c via)" = \(directors.count - 1) ] && { date +%s.%N; break; }; sleep 0.02
            done
            """)
        if loss.needsUp {
            let up = await cluster.run(.up)
            #expect(up.exitCode == 0, "up after \(loss.rawValue):\n\(up.text)\n\(failures(up))")
        }
        #expect(try await waitFor("director2's next hop back after \(loss.rawValue)", timeout: 30) { try await lab.nextHops().count == directors.count } != nil)
        let ends = try await held.results()
        let during = try await loop.stop()
        let after = try await held.directorsCarrying(directors)
        let others = before.filter { !$0.value.contains("director2") }
        let othersMoved = others.filter { port, first in !(after[port] ?? []).subtracting(first).isEmpty }.count
        let lostAt = Double(try await lab.run("director2", "cat \(stamp); rm -f \(stamp)").trimmingCharacters(in: .whitespacesAndNewlines))
        let withdrawn = Double(withdrawnAt.trimmingCharacters(in: .whitespacesAndNewlines)).flatMap { at in lostAt.map { at - $0 } }
        return DirectorLossResult(loss: loss, intact: ends.filter { $0 == "ok" }.count, held: ends.count,
                                  throughLost: before.values.filter { $0.contains("director2") }.count, othersMoved: othersMoved,
                                  newRequests: during.requests, newFailed: during.failures.count, longestGap: during.longestGap,
                                  withdrawn: withdrawn)
    }
}
