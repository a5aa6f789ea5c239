/// Validation of `map` keys in pools: continent codes, ISO 3166-1 alpha-2 country codes,
/// ISO 3166-2 subdivisions written `COUNTRY-SUBDIVISION`, and `default`. These are the codes
/// MaxMind databases carry in `continent.code`, `country.iso_code` and
/// `subdivisions[0].iso_code`.
///
/// The seven continent codes always mean continents; four of them (AF, AS, NA, SA) are also
/// country codes, of Afghanistan, American Samoa, Namibia and Saudi Arabia, which a map can
/// therefore only reach through their continent or a subdivision such as `SA-01`.
public enum RegionCode {
    /// ISO 3166-1 alpha-2, the 249 officially assigned codes (as in the iso-codes package's
    /// iso_3166-1.json), plus XK (Kosovo), which MaxMind uses.
    public static let countries: Set<String> = Set("""
        AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ \
        BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM \
        DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS \
        GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN \
        KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ \
        MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM \
        PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV \
        SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI \
        VN VU WF WS XK YE YT ZA ZM ZW
        """.split(separator: " ").map(String.init))

    /// Checks one map key; the error says what the key should look like.
    public static func check(_ key: String) throws(ValueError) {
        if key == "default" || Pool.continentCodes.contains(key) || countries.contains(key) { return }
        if key.lowercased() == "default" { throw ValueError("write \"default\" in lower case") }
        let upper = key.uppercased()
        if upper != key, (try? check(upper)) != nil {
            throw ValueError("region codes are upper case: write \"\(upper)\"")
        }
        if key == "UK" { throw ValueError("\"UK\" is not an ISO 3166-1 code; the United Kingdom is \"GB\"") }
        let parts = key.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 {
            let country = String(parts[0]), subdivision = parts[1]
            guard countries.contains(country) else {
                throw ValueError("\"\(key)\": \"\(country)\" is not an ISO 3166-1 country code")
            }
            guard (1...3).contains(subdivision.count),
                  subdivision.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) else {
                throw ValueError("\"\(key)\": a subdivision is 1 to 3 upper-case letters or digits, as in US-CA")
            }
            return
        }
        if key.count == 2 { throw ValueError("\"\(key)\" is not an ISO 3166-1 country code") }
        throw ValueError(
            "\"\(key)\" is not a region: use a continent (AF AN AS EU NA OC SA), a country (DE), "
                + "a subdivision (US-CA) or \"default\"")
    }
}
