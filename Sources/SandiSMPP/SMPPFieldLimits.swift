/// SMPP 3.4 maximum sizes of C-octet string fields, NUL included.
enum SMPPFieldLimits {
    static let systemID = 16
    static let password = 9
    static let systemType = 13
    static let addressRange = 41
    static let serviceType = 6
    static let address = 21
    static let time = 17
    static let messageID = 65
    static let shortMessage = 254
}
