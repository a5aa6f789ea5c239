/// The dashboard's HTML and script and the Prometheus text each escape a different set of
/// characters; the tables say which, this says how.
extension String {
    /// The text with every scalar that `escapes` lists replaced by its escape.
    func escaping(_ escapes: [Unicode.Scalar: String]) -> String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            if let escape = escapes[scalar] {
                out += escape
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
