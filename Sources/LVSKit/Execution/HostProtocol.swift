/// The lines a host's shell prints for lvsctl, `@@lvsctl-NAME FIELDS…`, everything else being a
/// step's own output. One type for the writer (`HostScript`, the verify request script) and the
/// readers (`HostOutput`, `HostSession`, `VerifyRequests`): neither side spells a marker the
/// other does not know.
public enum HostMarker: String, CaseIterable, Sendable, CustomStringConvertible {
    /// `end N`: part N ran to its end (also ends each verify answer, without a number).
    case end
    /// The conversation holds the host's lock and has listed its record.
    case held
    /// `locked WHO`: another run holds the lock; nothing was done.
    case locked
    /// `waited WHO MS`: the lock was held by a run whose lvsctl is gone; its shell was waited for.
    case waited
    /// `fatal WHY`: the conversation could not start.
    case fatal
    /// `cluster JSON`: one host of the cluster as the host last recorded it.
    case cluster
    /// `records` … `records end`: the resources the host's record holds, a line per file of each,
    /// `KEY/order:N`, `KEY/id:ID`, `KEY/applied:VALUE`.
    case records
    /// `step N STATUS MS`, with `was N VALUE`, `now N VALUE` and `err N LINE` before it.
    case step, was, now, err
    /// `met FIRST END`: steps FIRST up to END (not included) are requirements met, checked
    /// together; a step after it may say otherwise of one of them.
    case met
    /// `ipvs SECTION` … `ipvs end`: ipvsadm's output (or bird's, for status); `ipvs N STATUS MS`
    /// and `ipvs-err N LINE`: an IPVS change.
    case ipvs, ipvsError = "ipvs-err"
    /// `batch STATUS MS` and `batch-err LINE`: the IPVS changes made together (one `ipvsadm -R`).
    case batch, batchError = "batch-err"
    /// `undo-id KEY ID`, `undo KEY STATUS MS`, `undo-err KEY LINE`: a record undone.
    case undoID = "undo-id", undo, undoError = "undo-err"
    /// `answer N SOURCE BODY`: one of verify's requests.
    case answer

    public static let prefix = "@@lvsctl-"

    /// The marker as the host prints it: `@@lvsctl-step`.
    public var description: String { Self.prefix + rawValue }

    /// The marker of a line the host printed, if it is one.
    public init?(line word: Substring) {
        guard word.hasPrefix(Self.prefix) else { return nil }
        self.init(rawValue: String(word.dropFirst(Self.prefix.count)))
    }
}

/// How a step went, as its host reported it.
public enum StepStatus: String, Sendable, CustomStringConvertible {
    /// A template resource already as wanted.
    case ok
    /// A template resource made as wanted (up).
    case changed
    /// A template resource that up would change (plan).
    case wouldChange = "would-change"
    /// An IPVS change made.
    case done
    /// A record undone.
    case restored
    case failed

    public var description: String { rawValue }
}
