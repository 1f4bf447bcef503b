extension Hub {
    /// Takes the reloadable hub settings (SIGHUP): room cap, announce limit, message logging and operators.
    /// Rooms over a lowered cap stay; operator fingerprints apply to logins from now on.
    public func applyReloadable(_ new: HubConfiguration) {
        configuration.maximumRooms = new.maximumRooms
        configuration.announceLimit = new.announceLimit
        configuration.logMessages = new.logMessages
        configuration.operatorFingerprints = new.operatorFingerprints
        configuration.operatorAccounts = new.operatorAccounts
    }
}
