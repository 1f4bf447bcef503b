public enum SecureChatVersion { public static let string = "0.1.0" }
