/// What a host printed during a conversation, read back from its marker lines (`@@lvsctl-…`);
/// everything else a step prints goes to its own error log, which comes back only on failure.
public struct HostOutput: Sendable, Equatable {
    /// A resource the host's record holds.
    public struct Record: Sendable, Equatable {
        public var key: String
        public var order: Int
        public var id: String
        public var applied: String?

        /// The IPVS service the record is of (nil: another kind of resource).
        public var ipvsService: IPVSServiceKey? { IPVSServiceKey(recordID: id) }
    }

    /// How one step (a template resource, or an IPVS change) went.
    public struct Step: Sendable, Equatable {
        /// nil until the step's status line arrived (a step cut short prints none).
        public var status: StepStatus?
        public var milliseconds = 0
        /// What lvsctl last applied (from the record), and what the host had before this run.
        public var was: String?
        public var now: String?
        public var output: [String] = []

        public init(status: StepStatus? = nil, milliseconds: Int = 0, was: String? = nil, now: String? = nil, output: [String] = []) {
            self.status = status
            self.milliseconds = milliseconds
            self.was = was
            self.now = now
            self.output = output
        }
    }

    public struct Undo: Sendable, Equatable {
        public var key: String
        public var id: String
        public var status: StepStatus?
        public var milliseconds = 0
        public var output: [String] = []
    }

    /// Who holds the host's lock, when another run does.
    public var locked: String?
    /// A run whose lvsctl is gone held the lock, and its shell was waited for: who, how long.
    public var waited: Wait?

    public struct Wait: Sendable, Equatable {
        public var owner: String
        public var milliseconds: Int
    }
    /// Why the conversation could not even start.
    public var fatal: String?
    public var records: [Record] = []
    /// The cluster's hosts as the host last recorded them (JSON lines).
    public var cluster: [String] = []
    /// The director's listings by section: `kernel` (/proc/net/ip_vs), `thresholds`, `stats`
    /// (ipvsadm's); and `bird`, what lvsctl's bird said (status).
    public var ipvs: [String: String] = [:]
    public var steps: [Int: Step] = [:]
    public var ipvsSteps: [Int: Step] = [:]
    /// The IPVS changes made in one `ipvsadm -R` (nil: not reached).
    public var ipvsBatch: Step?
    public var undos: [Undo] = []

    public init() {}

    public init(_ text: String) { read(text) }

    /// The director's live table, if IPVS was read.
    public var ipvsTable: IPVSTable? {
        guard let kernel = ipvs["kernel"] else { return nil }
        return IPVSAdm.table(kernel: kernel, thresholds: ipvs["thresholds"] ?? "", stats: ipvs["stats"])
    }

    /// Adds what another stretch of the same conversation printed.
    public mutating func read(_ other: HostOutput) {
        locked = other.locked ?? locked
        waited = other.waited ?? waited
        fatal = other.fatal ?? fatal
        records += other.records
        cluster += other.cluster
        ipvs.merge(other.ipvs) { $1 }
        steps.merge(other.steps) { $1 }
        ipvsSteps.merge(other.ipvsSteps) { $1 }
        ipvsBatch = other.ipvsBatch ?? ipvsBatch
        undos += other.undos
    }

    public mutating func read(_ text: String) {
        var section: String?
        var inRecords = false
        var recordFiles: [String: [String: String]] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            // `KEY/FILE:LINE`, the first line of each file.
            if inRecords, !line.hasPrefix(HostMarker.prefix) {
                guard let slash = line.firstIndex(of: "/"), let colon = line[slash...].firstIndex(of: ":") else { continue }
                let key = String(line[..<slash]), file = String(line[line.index(after: slash)..<colon])
                if recordFiles[key]?[file] == nil { recordFiles[key, default: [:]][file] = String(line[line.index(after: colon)...]) }
                continue
            }
            // ipvsadm's listing, line by line (thousands for a big table): kept as it is.
            if let name = section, !line.hasPrefix(HostMarker.prefix) {
                ipvs[name, default: ""] += line + "\n"
                continue
            }
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            let rest = { (from: Int) in fields.count > from ? fields[from...].joined(separator: " ") : "" }
            let marker = HostMarker(line: line.prefix { $0 != " " })
            switch marker {
            case .ipvs where fields.count == 2:
                section = fields[1] == "end" ? nil : fields[1]
                if let section { ipvs[section] = "" }
            case .locked: locked = rest(1)
            case .waited:
                let words = rest(1).split(separator: " ")
                waited = Wait(owner: words.dropLast().joined(separator: " "), milliseconds: words.last.flatMap { Int($0) } ?? 0)
            case .fatal: fatal = rest(1)
            case .cluster: cluster.append(rest(1))
            case .records where fields.count == 1:
                inRecords = true
            case .records:
                inRecords = false
                records += recordFiles.compactMap { key, files in
                    guard let order = files["order"].flatMap({ Int($0) }), let id = files["id"] else { return nil }
                    return Record(key: key, order: order, id: id, applied: files["applied"])
                }.sorted { $0.key < $1.key }
                recordFiles = [:]
            case .step where fields.count >= 4:
                if let index = Int(fields[1]) {
                    steps[index, default: Step()].status = StepStatus(rawValue: fields[2])
                    steps[index]?.milliseconds = Int(fields[3]) ?? 0
                }
            case .met where fields.count >= 3:
                guard let first = Int(fields[1]), let end = Int(fields[2]), first <= end else { continue }
                for index in first..<end { steps[index, default: Step()].status = .ok }
            case .was, .now, .err:
                guard fields.count >= 2, let index = Int(fields[1]) else { continue }
                var step = steps[index] ?? Step()
                switch marker {
                case .was: step.was = rest(2)
                case .now: step.now = rest(2)
                default: step.output.append(rest(2))
                }
                steps[index] = step
            case .ipvs where fields.count >= 4:
                if let index = Int(fields[1]) {
                    ipvsSteps[index, default: Step()].status = StepStatus(rawValue: fields[2])
                    ipvsSteps[index]?.milliseconds = Int(fields[3]) ?? 0
                }
            case .ipvsError where fields.count >= 2:
                if let index = Int(fields[1]) { ipvsSteps[index, default: Step(status: .failed)].output.append(rest(2)) }
            case .batch where fields.count >= 3:
                ipvsBatch = Step(status: StepStatus(rawValue: fields[1]), milliseconds: Int(fields[2]) ?? 0, output: ipvsBatch?.output ?? [])
            case .batchError:
                ipvsBatch = ipvsBatch ?? Step(status: .failed)
                ipvsBatch?.output.append(rest(1))
            case .undoID where fields.count >= 2:
                undos.append(Undo(key: fields[1], id: rest(2)))
            case .undo where fields.count >= 4:
                if let at = undos.lastIndex(where: { $0.key == fields[1] }) {
                    undos[at].status = StepStatus(rawValue: fields[2])
                    undos[at].milliseconds = Int(fields[3]) ?? 0
                }
            case .undoError where fields.count >= 2:
                if let at = undos.lastIndex(where: { $0.key == fields[1] }) { undos[at].output.append(rest(2)) }
            default:
                continue
            }
        }
    }
}
