import Foundation
import LVSRunner
import Testing
@testable import LVSKit
import LVSTestSupport

/// The director's IPVS part at the kernel's batch speed: the script is run here by /bin/sh
/// against a scratch state folder and an `ipvsadm` that logs what it is given, with every
/// command it starts counted, so "the processes do not grow with the services" is measured, not
/// read off the script.
struct IPVSBatchTests {
    /// `count` services on one VIP, two real servers each.
    static func services(_ count: Int, weight: Int = 1) -> [IPVSService] {
        (0..<count).map { index in
            let key = IPVSServiceKey.tcp(try! IPAddress.parse("192.168.0.200").get(), port: 1000 + index)
            return IPVSService(key: key, scheduler: "rr", destinations: ["10.0.0.11", "10.0.0.12"].map {
                IPVSDestination(address: try! IPAddress.parse($0).get(), port: 1000 + index, method: .directRouting, weight: weight)
            })
        }
    }

    /// A scratch host: a state folder, and a PATH where each command lvsctl's shell may start
    /// logs its name (then runs the real one); `ipvsadm` logs its arguments and, for `-R`, what
    /// it reads (refusing with what `refuse` holds, or `refuse-once` the first time), and prints
    /// `save` for `-S` and `thresholds` for `-L`.
    final class Host {
        let folder: String
        init() throws {
            folder = NSTemporaryDirectory() + "lvsctl-batch-\(UUID().uuidString)"
            let bin = folder + "/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: folder + "/state", withIntermediateDirectories: true)
            for tool in ["mkdir", "mv", "cat", "sed", "sort", "rm", "rmdir", "mktemp", "awk", "ss", "xargs", "grep", "cmp"] {
                let real = ["/usr/bin/\(tool)", "/bin/\(tool)"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? tool
                // The director's table is read from /proc/net/ip_vs: here, the file `kernel`.
                let kernel = tool == "cat" ? "[ \"$*\" != /proc/net/ip_vs ] || set -- \(folder)/kernel\n" : ""
                try write(bin + "/" + tool, "#!/bin/sh\necho \(tool) >> \(folder)/processes\n\(kernel)exec \(real) \"$@\"\n")
            }
            try write(bin + "/ipvsadm", """
                #!/bin/sh
                echo ipvsadm >> \(folder)/processes
                echo "ipvsadm $*" >> \(folder)/ipvsadm.log
                case "$1" in
                  -R) # Whole, when two run side by side: what this one read, then appended under a lock.
                      PATH=/usr/bin:/bin cat > \(folder)/restoring.$$
                      PATH=/usr/bin:/bin flock \(folder)/restored.lock sh -c 'cat "$1" >> "$2" && rm "$1"' _ \(folder)/restoring.$$ \(folder)/restored
                      [ ! -f \(folder)/refuse ] || PATH=/usr/bin:/bin cat \(folder)/refuse >&2
                      [ ! -f \(folder)/refuse-once ] || { PATH=/usr/bin:/bin cat \(folder)/refuse-once >&2; PATH=/usr/bin:/bin rm \(folder)/refuse-once; } ;;
                  -S) [ ! -f \(folder)/save ] || PATH=/usr/bin:/bin cat \(folder)/save ;;
                  -L) [ ! -f \(folder)/thresholds ] || PATH=/usr/bin:/bin cat \(folder)/thresholds ;;
                esac
                exit 0

                """)
        }

        func write(_ path: String, _ text: String) throws {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }

        /// Runs a conversation's body after the prologue, with the state folder here.
        func run(_ body: String) async throws -> (output: HostOutput, processes: [String]) {
            try? FileManager.default.removeItem(atPath: folder + "/processes")
            // Every S= line, the body's too: a test's script never reaches this machine's own folder.
            let script = (HostScript.prologue + body).replacingOccurrences(of: "S=\(HostScript.stateDirectory)", with: "S=\(folder)/state")
            let file = folder + "/script.sh"
            try script.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try await LocalProgram.run("/bin/sh", [file], environment: ["PATH": "\(folder)/bin:/usr/bin:/bin"])
            let processes = (try? String(contentsOfFile: folder + "/processes", encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
            return (HostOutput(result.output), processes)
        }

        func text(_ name: String) -> String { (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? "" }

        deinit { try? FileManager.default.removeItem(atPath: folder) }
    }

    /// A first `up` and the `down` after it, for 10, 400 and 1 000 services: the same processes
    /// (one `mkdir`, one `mv`, one `ipvsadm -R` to make them, two side by side from 1 000 lines
    /// on; a `cat` of the deletions, an `xargs` finding no prior lines to put back, one
    /// `ipvsadm -R`, a `mkdir` and a `mv` to remove them).
    @Test func processesDoNotGrowWithServices() async throws {
        var counts: [Int: [String]] = [:]
        for count in [10, 400, 1000] {
            let host = try Host()
            let desired = Self.services(count)
            let (steps, _) = HostDiff.ipvs(desired: desired, live: IPVSTable(), records: [])
            let (up, made) = try await host.run(HostScript.ipvs(steps, live: IPVSTable()))
            #expect(up.ipvsBatch?.status == .done, "\(up)")
            #expect(HostScript.ipvsResults(steps, up).allSatisfy { $0?.status == .done })
            // Two processes append side by side: each share whole, in either order.
            let shares = IPVSBatch(steps).shares.map { $0.joined(separator: "\n") + "\n" }
            #expect(shares.count == (count * 3 < IPVSBatch.sharedFrom ? 1 : 2) && shares.joined().split(separator: "\n") == IPVSBatch(steps).lines.map { Substring($0) })
            #expect([shares.joined(), shares.reversed().joined()].contains(host.text("restored")))
            // Each service's record, as the opening lists them.
            let (listed, _) = try await host.run("lvsctl_records\n")
            #expect(listed.records.count == count)
            #expect(Set(listed.records.map(\.id)) == Set(desired.map(\.key.resourceID.description)))
            #expect(Set(listed.records.map(\.order)) == Set(1...count))

            try? FileManager.default.removeItem(atPath: host.folder + "/restored")
            let (down, removed) = try await host.run(HostScript.undoIPVS(records: listed.records, live: IPVSTable(services: desired)))
            #expect(down.undos.count == count && down.undos.allSatisfy { $0.status == .restored }, "\(down.undos.prefix(3))")
            #expect(host.text("restored") == listed.records.sorted { $0.order > $1.order }
                .map { "-D -t " + $0.id.dropFirst("ipvs tcp ".count) }
                .joined(separator: "\n") + "\n")
            let (after, _) = try await host.run("lvsctl_records\n")
            #expect(after.records.isEmpty)
            counts[count] = made + ["|"] + removed
        }
        #expect(counts[400] == counts[1000], "400 services: \(counts[400] ?? []); 1000: \(counts[1000] ?? [])")
        #expect(counts[10] == ["mktemp", "mkdir", "mv", "ipvsadm", "rm", "|", "mktemp", "cat", "xargs", "ipvsadm", "mkdir", "mv", "rm"])
        #expect(counts[1000] == ["mktemp", "mkdir", "mv", "ipvsadm", "ipvsadm", "rm", "|", "mktemp", "cat", "xargs", "ipvsadm", "mkdir", "mv", "rm"])
    }

    /// Three services wanted; the director has the second already, with one real server less
    /// (not lvsctl's): up takes it over, and creates the other two.
    static func oneServiceTakenOver() -> (desired: [IPVSService], stranger: IPVSService, live: IPVSTable, steps: [HostScript.IPVSStep]) {
        let desired = services(3)
        var stranger = desired[1]
        stranger.destinations.removeLast()
        let live = IPVSTable(services: [stranger])
        return (desired, stranger, live, HostDiff.ipvs(desired: desired, live: live, records: []).steps)
    }

    /// `up` records and makes the services it creates while the real servers work (their `-A`s
    /// in one `ipvsadm -R`), the others' records with their changes: each record once, numbered
    /// on from the first part's; the later batch adds the new services' destinations only.
    @Test func creationsGoFirstTheRestWithTheirChanges() async throws {
        let (desired, _, live, steps) = Self.oneServiceTakenOver()
        let early = UpScript.creations(steps)
        #expect(early.map(\.change.serviceKey) == [desired[0].key, desired[2].key])
        let later = UpScript.steps(steps, created: Set(early.map(\.change.serviceKey)))
        #expect(later.map(\.change) == steps.map(\.change))
        #expect(later.compactMap(\.record).map(\.key) == [desired[1].key])
        #expect(later.map(\.serviceMade) == [true, false, true])
        let host = try Host()
        let (first, made) = try await host.run(UpScript.directorCreations(early))
        #expect(first.ipvsBatch == nil && made == ["mktemp", "mkdir", "mv", "ipvsadm", "rm"], "\(first) \(made)")
        #expect(host.text("restored") == [desired[0], desired[2]].map { IPVSAdm.batchLine(IPVSAdm.addService($0)) + "\n" }.joined())
        try? FileManager.default.removeItem(atPath: host.folder + "/restored")
        let (second, _) = try await host.run(HostScript.ipvs(later, live: live))
        #expect(second.ipvsBatch?.status == .done)
        #expect(host.text("restored") == [desired[0].destinations.map { ($0, desired[0].key) }, [(desired[1].destinations[1], desired[1].key)],
                                          desired[2].destinations.map { ($0, desired[2].key) }]
            .flatMap { $0 }.map { IPVSAdm.batchLine(IPVSAdm.addDestination($0.0, to: $0.1)) + "\n" }.joined())
        let (listed, _) = try await host.run("lvsctl_records\n")
        #expect(listed.records.sorted { $0.order < $1.order }.map(\.id) == [desired[0], desired[2], desired[1]].map(\.key.resourceID.description))
        #expect(UpScript.creations(HostDiff.ipvs(desired: desired, live: IPVSTable(services: desired), records: []).steps).isEmpty)
    }

    /// The kernel refuses a service made early: the batch that adds the destinations (a later
    /// part of the same conversation) fails with the refusal, and each change is judged by the
    /// table read back.
    @Test func aRefusedCreationFailsTheBatchAfterIt() async throws {
        let desired = Self.services(2)
        let (steps, _) = HostDiff.ipvs(desired: desired, live: IPVSTable(), records: [])
        let created = UpScript.creations(steps)
        let host = try Host()
        try "Memory allocation problem\n".write(toFile: host.folder + "/refuse-once", atomically: true, encoding: .utf8)
        let later = UpScript.steps(steps, created: Set(created.map(\.change.serviceKey)))
        let (output, _) = try await host.run(UpScript.directorCreations(created) + HostScript.ipvs(later, live: IPVSTable()))
        #expect(output.ipvsBatch?.status == .failed, "\(output)")
        let results = HostScript.ipvsResults(later, output)
        #expect(results.map { $0?.status } == [.failed, .failed])
        #expect(results[0]?.output.first == "Memory allocation problem", "\(String(describing: results[0]))")
    }

    /// Every real server of the new services is withheld (their hosts failed): the services are
    /// made early, the later batch has no line to run, and reports them made without a process.
    @Test func servicesMadeEarlyWithoutRealServersAreReportedMade() async throws {
        let desired = Self.services(2)
        let plan = IPVSPlan(desired: desired, live: IPVSTable(), records: [], unready: { _, _ in "rs1" })
        let created = UpScript.creations(plan.steps)
        #expect(plan.withheld.count == 4 && created.count == 2)
        let later = UpScript.steps(plan.steps, created: Set(created.map(\.change.serviceKey)))
        let host = try Host()
        let (output, processes) = try await host.run(UpScript.directorCreations(created) + HostScript.ipvs(later, live: IPVSTable()))
        #expect(output.ipvsBatch?.status == .done && processes.filter { $0 == "ipvsadm" }.count == 1, "\(output) \(processes)")
        #expect(HostScript.ipvsResults(later, output).map { $0?.status } == [.done, .done])
    }

    /// The creation records cannot be written: that part ends the conversation before any change,
    /// and each change of the later part (which never runs) is reported failed, with why.
    @Test func unwritableCreationRecordsFailEveryChange() async throws {
        let desired = Self.services(2)
        let (steps, _) = HostDiff.ipvs(desired: desired, live: IPVSTable(), records: [])
        let host = try Host()
        try "not a folder\n".write(toFile: host.folder + "/state/tmp", atomically: true, encoding: .utf8)
        let (first, made) = try await host.run(UpScript.directorCreations(UpScript.creations(steps)))
        #expect(!made.contains("ipvsadm") && first.ipvsBatch?.status == .failed, "\(made) \(first)")
        var output = first
        output.read(HostOutput())   // the later part: the shell had ended
        let results = HostScript.ipvsResults(UpScript.steps(steps, created: Set(desired.map(\.key))), output)
        #expect(results.map { $0?.status } == [.failed, .failed])
        #expect(results[0]?.output.last?.hasPrefix("cannot write the records under ") == true, "\(String(describing: results[0]))")
    }

    /// Enough records to be written in two shares side by side: one the second share cannot
    /// write stops the part before any record is renamed into place or any service made.
    @Test func aRecordShareThatFailsStopsEveryChange() async throws {
        let desired = Self.services(400)
        let creations = UpScript.creations(HostDiff.ipvs(desired: desired, live: IPVSTable(), records: []).steps)
        let host = try Host()
        try FileManager.default.createDirectory(atPath: host.folder + "/state/tmp/\(desired[399].key.resourceID.recordKey)/order",
                                                withIntermediateDirectories: true)
        let script = UpScript.directorCreations(creations)
        #expect(script.contains("lvsctl_records_2 &"))
        let (output, processes) = try await host.run(script)
        #expect(output.ipvsBatch?.status == .failed && !processes.contains("ipvsadm") && !processes.contains("mv"), "\(output) \(processes)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: host.folder + "/state/r")) ?? []).isEmpty)
    }

    /// A service that was there before lvsctl keeps what it was in its record (`prior`), one
    /// lvsctl creates has none: `down` deletes both in one batch and puts back only the first,
    /// as it was; each record's own undo (the fallback) does the same.
    @Test func takenOverServiceComesBackCreatedOneGoes() async throws {
        let (desired, stranger, live, steps) = Self.oneServiceTakenOver()
        #expect(steps.compactMap(\.record).map(\.prior) == [nil, stranger, nil])
        let priorLines = IPVSAdm.saveLines(stranger).joined(separator: "\n") + "\n"
        for fallback in [false, true] {
            let host = try Host()
            let (up, _) = try await host.run(HostScript.ipvs(steps, live: live))
            #expect(up.ipvsBatch?.status == .done, "\(up)")
            let (listed, _) = try await host.run("lvsctl_records\n")
            #expect(listed.records.count == 3)
            let files = try FileManager.default.subpathsOfDirectory(atPath: host.folder + "/state/r").filter { $0.hasSuffix("/prior") }
            #expect(files.count == 1 && files[0].hasPrefix(desired[1].key.resourceID.recordKey), "\(files)")
            try? FileManager.default.removeItem(atPath: host.folder + "/restored")
            // The fallback: the batch's ipvsadm -R refused (each record's undo then runs).
            if fallback { try "refused\n".write(toFile: host.folder + "/refuse", atomically: true, encoding: .utf8) }
            let (down, _) = try await host.run(HostScript.undoIPVS(records: listed.records, live: IPVSTable(services: desired)))
            #expect(down.undos.filter { $0.status == .restored }.count == 3, "\(down.undos)")
            let log = host.text(fallback ? "ipvsadm.log" : "restored")
            #expect(log.contains(priorLines) || fallback, "\(log)")
            if fallback {
                // One undo per record: a -D for each, and the stranger's -A/-a back.
                let commands = log.split(separator: "\n").filter { !$0.contains(" -R") }
                #expect(commands.filter { $0.hasPrefix("ipvsadm -D") }.count == 3, "\(commands)")
                #expect(commands.contains("ipvsadm -A -t 192.168.0.200:1001 -s rr"), "\(commands)")
            }
            let (after, _) = try await host.run("lvsctl_records\n")
            #expect(after.records.isEmpty)
        }
    }

    /// The kernel refuses part of a batch (`ipvsadm -R` goes on past the refused line): the
    /// table read back after it tells which changes were made.
    @Test func aRefusedLineIsJudgedFromTheTableAfterIt() async throws {
        let host = try Host()
        let desired = Self.services(3)
        let (steps, _) = HostDiff.ipvs(desired: desired, live: IPVSTable(), records: [])
        // The kernel made the first two services and refused the third's scheduler.
        let twin = IPVSTwin()
        _ = twin.restore(IPVSBatch(Array(steps.prefix(2))).lines)
        try twin.kernelListing.write(toFile: host.folder + "/kernel", atomically: true, encoding: .utf8)
        try twin.thresholds().write(toFile: host.folder + "/thresholds", atomically: true, encoding: .utf8)
        try "Scheduler not found: ip_vs_rr.ko\n".write(toFile: host.folder + "/refuse", atomically: true, encoding: .utf8)
        let (output, _) = try await host.run(HostScript.ipvs(steps, live: IPVSTable()))
        #expect(output.ipvsBatch?.status == .failed && output.ipvsBatch?.output == ["Scheduler not found: ip_vs_rr.ko"])
        let results = HostScript.ipvsResults(steps, output)
        #expect(results.map { $0?.status } == [.done, .done, .failed])
        #expect(results[2]?.output == ["Scheduler not found: ip_vs_rr.ko"])
    }

    /// The twin makes a batch as the director's shell does: what it refuses is passed over, and
    /// each change is judged by the table after it.
    @Test func twinJudgesEachChangeOfARefusedBatch() async throws {
        let twin = IPVSTwin(schedulers: ["rr", "wrr"])
        var desired = Self.services(3)
        desired[1].scheduler = "mh"   // not in this kernel
        let (steps, _) = HostDiff.ipvs(desired: desired, live: IPVSTable(), records: [])
        let results = await twin.apply(steps, endingBridges: [])
        #expect(results.map { $0?.status } == [.done, .failed, .done])
        #expect(twin.table.services.map(\.key) == [desired[0].key, desired[2].key])
    }
}
