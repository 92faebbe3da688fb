import Testing
@testable import LVSKit
@Test func version() { #expect(!LVSKit.version.isEmpty) }
