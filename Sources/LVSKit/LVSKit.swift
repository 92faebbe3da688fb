/// lvsctl's domain: inventory, validation, playbooks and rendering. Pure: no I/O but reading the
/// data files it is pointed at.
public enum LVSKit {
    public static let version = "0.2.0"
}
