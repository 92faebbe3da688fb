public enum LVSKit { public static let version = "0.1.0" }
