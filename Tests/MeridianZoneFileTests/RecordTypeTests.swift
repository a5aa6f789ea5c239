import MeridianWire
import MeridianZoneFile
import Testing

/// RDATA text of one of the types added for zone files from BIND, NSD and Knot, how Meridian
/// prints it, and its wire form. The printed forms equal BIND 9.18 `named-compilezone` output
/// once the blanks BIND puts inside long base64 and hex fields are removed; the wire forms were
/// produced independently with dnspython 2.9.
struct TypeCase: Sendable, CustomTestStringConvertible {
    var type: RRType
    var text: String
    var printed: String
    var wire: String

    init(_ type: RRType, _ text: String, _ printed: String, _ wire: String) {
        self.type = type
        self.text = text
        self.printed = printed
        self.wire = wire
    }

    var testDescription: String { "\(type) \(text)" }
}

let typeCases: [TypeCase] = [
    TypeCase(.rp, "mbox.example.com. txt.example.com.",
             "mbox.example.com. txt.example.com.",
             "046D626F78076578616D706C6503636F6D0003747874076578616D706C6503636F6D00"),
    TypeCase(.rp, "admin @",
             "admin.example. example.",
             "0561646D696E076578616D706C6500076578616D706C6500"),
    TypeCase(.afsdb, "1 afsdb.example.com.",
             "1 afsdb.example.com.",
             "0001056166736462076578616D706C6503636F6D00"),
    TypeCase(.kx, "10 kx.example.com.",
             "10 kx.example.com.",
             "000A026B78076578616D706C6503636F6D00"),
    TypeCase(.uri, "10 1 \"ftp://ftp1.example.com/public\"",
             "10 1 \"ftp://ftp1.example.com/public\"",
             "000A00016674703A2F2F667470312E6578616D706C652E636F6D2F7075626C6963"),
    TypeCase(.uri, "1 0 \"https://example.com/a b\\\"c\"",
             "1 0 \"https://example.com/a b\\\"c\"",
             "0001000068747470733A2F2F6578616D706C652E636F6D2F6120622263"),
    TypeCase(.openpgpkey, "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq",
             "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq",
             "99020D0458ADDA3B011000EB6E5E6F8D5C587801348342036020691E2AEFD528E5AB1C79823B4F85BD9886FC833178EA"),
    TypeCase(.smimea, "3 1 0 0123456789abcdef 0123456789ABCDEF",
             "3 1 0 0123456789ABCDEF0123456789ABCDEF",
             "0301000123456789ABCDEF0123456789ABCDEF"),
    TypeCase(.cds, "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
             "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
             "EC4505012BB183AF5F22588179A53B0A98631FAD1A292118"),
    TypeCase(.cds, "0 0 0 00",
             "0 0 0 00",
             "0000000000"),
    TypeCase(.ds, "60485 RSASHA1 1 ( 2BB183AF5F225881 79A53B0A98631FAD 1A292118 )",
             "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
             "EC4505012BB183AF5F22588179A53B0A98631FAD1A292118"),
    TypeCase(.dnskey, "256 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbz xeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8O g8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBx WezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7 pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzu DWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn 6UwNR1AkUTV74bU=",
             "256 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=",
             "0100030803010001ACFFB409BCC939F831F7A1E5EC88F7A59255EC53040BE432027390A4CE896D6F9086F3C5E177FBFE118163AAEC7AF1462C47945944C4E2C026BE5E98BBCDED25978272E1E3E079C5094D573F0E83C92F02B32D3513B1550B826929C80DD0F92CAC966D17769FD5867B647C3F38029ABDC48152EB8F207159ECC5D232C7C1537C79F4B7AC28FF11682F21681BF6D6ABA555032BF6F9F036BEB2AAA5B3778D6EEBFBA6BF9EA191BE4AB0CAEA759E2F773A1F9029C73ECB8D5735B9321DB085F1B8E2D8038FE2941992548CEE0D67DD4547E11DD63AF9C9FC1C5466FB684CF009D7197C2CF79E792AB501E6A8A1CA519AF2CB9B5F6367E94C0D47502451357BE1B5"),
    TypeCase(.dnskey, "257 3 ECDSAP256SHA256 ( mdsswUyr3DPW132mOi8V9xESWE8jTo0d xCjjnopKl+GqJxpVXckHAeF+KkxLbxIL fDLUT0rAK9iUzy1L53eKGQ== )",
             "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
             "0101030D99DB2CC14CABDC33D6D77DA63A2F15F71112584F234E8D1DC428E39E8A4A97E1AA271A555DC90701E17E2A4C4B6F120B7C32D44F4AC02BD894CF2D4BE7778A19"),
    TypeCase(.cdnskey, "257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
             "257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
             "0101030F974D96A22D224BC01ADB915091477D44CCD91C9A41A11430010117D52C59240E"),
    TypeCase(.rrsig, "A 8 2 300 20360101000000 20351201000000 12345 example. dGVzdA==",
             "A 8 2 300 20360101000000 20351201000000 12345 example. dGVzdA==",
             "000108020000012C7C245F007BFB80803039076578616D706C650074657374"),
    TypeCase(.rrsig, "TYPE65534 13 3 3600 2082758400 2080080000 1 sub.example. AAAA",
             "TYPE65534 13 3 3600 20360101000000 20351201000000 1 sub.example. AAAA",
             "FFFE0D0300000E107C245F007BFB8080000103737562076578616D706C6500000000"),
    TypeCase(.nsec, "host.example. A NS RRSIG NSEC TYPE1234",
             "host.example. A NS RRSIG NSEC TYPE1234",
             "04686F7374076578616D706C65000006600000000003041B000000000000000000000000000000000000000000000000000020"),
    TypeCase(.nsec, "\\000.example. SOA",
             "\\000.example. SOA",
             "0100076578616D706C6500000102"),
    TypeCase(.nsec3, "1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
             "1 1 12 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG",
             "0101000C04AABBCCDD1417F3DF17B2B2ADAEF615257DE4D2020B80AC6C7C0006400000000002"),
    TypeCase(.nsec3, "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S",
             "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S",
             "01000000001417F3DF17B2B2ADAEF615257DE4D2020B80AC6C7C"),
    TypeCase(.nsec3param, "1 0 12 aabbccdd",
             "1 0 12 AABBCCDD",
             "0100000C04AABBCCDD"),
    TypeCase(.nsec3param, "1 0 0 -",
             "1 0 0 -",
             "0100000000"),
    TypeCase(.csync, "66 3 A NS AAAA",
             "66 3 A NS AAAA",
             "000000420003000460000008"),
    TypeCase(.csync, "2026 0",
             "2026 0",
             "000007EA0000"),
    TypeCase(.zonemd, "2018031900 1 1 ( FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE 7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE )",
             "2018031900 1 1 FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE",
             "7848B91C0101FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE"),
    TypeCase(.eui48, "00-00-5e-00-53-2A",
             "00-00-5e-00-53-2a",
             "00005E00532A"),
    TypeCase(.eui64, "00-00-5E-EF-10-00-00-2a",
             "00-00-5e-ef-10-00-00-2a",
             "00005EEF1000002A"),
    TypeCase(.nid, "10 0014:4fff:ff20:ee64",
             "10 14:4fff:ff20:ee64",
             "000A00144FFFFF20EE64"),
    TypeCase(.l32, "10 10.1.2.0",
             "10 10.1.2.0",
             "000A0A010200"),
    TypeCase(.l64, "10 2001:0DB8:1140:1000",
             "10 2001:db8:1140:1000",
             "000A20010DB811401000"),
    TypeCase(.lp, "10 l64-subnet1.example.com.",
             "10 l64-subnet1.example.com.",
             "000A0B6C36342D7375626E657431076578616D706C6503636F6D00"),
    TypeCase(.cert, "PGP 0 0 AAAA",
             "PGP 0 0 AAAA",
             "0003000000000000"),
    TypeCase(.cert, "1 12345 RSASHA256 dGVzdA==",
             "PKIX 12345 RSASHA256 dGVzdA==",
             "000130390874657374"),
    TypeCase(.cert, "IACPKIX 65535 253 dGVzdA==",
             "IACPKIX 65535 PRIVATEDNS dGVzdA==",
             "0008FFFFFD74657374"),
    TypeCase(.cert, "URI 0 0 AAAA",
             "URI 0 0 AAAA",
             "00FD000000000000"),
    TypeCase(.cert, "65534 1 2 AAAA",
             "65534 1 DH AAAA",
             "FFFE000102000000"),
    TypeCase(.dhcid, "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
             "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
             "000201636FC0B8271C82825BB1AC5C41CF5351AA69B4FEBD94E8F17CDB95000DA48C40"),
    TypeCase(.loc, "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m",
             "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m",
             "000016138B3CF018810CBCE0009895B8"),
    TypeCase(.loc, "42 21 54 N 71 06 18 W -24m 30m",
             "42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m",
             "0033161389172DD070BE15F000988D20"),
    TypeCase(.loc, "42 N 71 W 1500 1500m 2.5 0.15",
             "42 0 0.000 N 71 0 0.000 W 1500.00m 1000m 2m 0.10m",
             "001522118903210070C3DA80009AE070"),
    TypeCase(.loc, "90 S 180 E 42849672.95 90000000 0 0",
             "90 0 0.000 S 180 0 0.000 E 42849672.95m 90000000m 0.00m 0.00m",
             "009900006CB02700A69FB200FFFFFFFF"),
    TypeCase(.loc, "0 0 0.001 N 0 59 59.999 W -100000m",
             "0 0 0.001 N 0 59 59.999 W -100000.00m 1m 10000m 10m",
             "00121613800000017FC9118100000000"),
    TypeCase(.ipseckey, "10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
             "10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
             "0A0102C0000226010351537986ED35533B6064478EEEB27B5BD74DAE149B6E81BA3A0521AF82AB7801"),
    TypeCase(.ipseckey, "10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
             "10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
             "0A0002010351537986ED35533B6064478EEEB27B5BD74DAE149B6E81BA3A0521AF82AB7801"),
    TypeCase(.ipseckey, "10 2 2 2001:0DB8:0:8002::2000:1 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
             "10 2 2 2001:db8:0:8002::2000:1 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
             "0A020220010DB8000080020000000020000001010351537986ED35533B6064478EEEB27B5BD74DAE149B6E81BA3A0521AF82AB7801"),
    TypeCase(.ipseckey, "10 3 2 gw AQNRU3mG",
             "10 3 2 gw.example. AQNRU3mG",
             "0A0302026777076578616D706C6500010351537986"),
    TypeCase(.apl, "1:192.168.32.0/21 !1:192.168.38.0/28",
             "1:192.168.32.0/21 !1:192.168.38.0/28",
             "00011503C0A82000011C83C0A826"),
    TypeCase(.apl, "1:224.0.0.0/4 2:FF00:0:0:0:0:0:0:0/8 !2:2001:db8::/32 1:0.0.0.0/0",
             "1:224.0.0.0/4 2:ff00::/8 !2:2001:db8::/32 1:0.0.0.0/0",
             "00010401E000020801FF0002208420010DB800010000"),
    TypeCase(.apl, "",
             "",
             ""),
    TypeCase(.https, "0 foo.example.com.",
             "0 foo.example.com.",
             "000003666F6F076578616D706C6503636F6D00"),
    TypeCase(.svcb, "1 .",
             "1 .",
             "000100"),
    TypeCase(.svcb, "16 foo.example.com. port=53",
             "16 foo.example.com. port=53",
             "001003666F6F076578616D706C6503636F6D00000300020035"),
    TypeCase(.svcb, "1 foo.example.com. key667=hello",
             "1 foo.example.com. key667=\"hello\"",
             "000103666F6F076578616D706C6503636F6D00029B000568656C6C6F"),
    TypeCase(.svcb, "1 foo.example.com. key667=\"hello\\210qoo\"",
             "1 foo.example.com. key667=\"hello\\210qoo\"",
             "000103666F6F076578616D706C6503636F6D00029B000968656C6C6FD2716F6F"),
    TypeCase(.svcb, "1 foo.example.com. ipv6hint=\"2001:db8::1,2001:db8::53:1\"",
             "1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1",
             "000103666F6F076578616D706C6503636F6D000006002020010DB800000000000000000000000120010DB8000000000000000000530001"),
    TypeCase(.svcb, "1 example.com. ipv6hint=\"2001:db8::198.51.100.100\"",
             "1 example.com. ipv6hint=2001:db8::c633:6464",
             "0001076578616D706C6503636F6D000006001020010DB80000000000000000C6336464"),
    TypeCase(.svcb, "16 foo.example.org. (alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1)",
             "16 foo.example.org. mandatory=alpn,ipv4hint alpn=\"h2,h3-19\" ipv4hint=192.0.2.1",
             "001003666F6F076578616D706C65036F7267000000000400010004000100090268320568332D313900040004C0000201"),
    TypeCase(.svcb, "16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"",
             "16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"",
             "001003666F6F076578616D706C65036F7267000001000C08665C6F6F2C626172026832"),
    TypeCase(.svcb, "16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2",
             "16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"",
             "001003666F6F076578616D706C65036F7267000001000C08665C6F6F2C626172026832"),
    TypeCase(.https, "1 . alpn=h3,h2 no-default-alpn ech=AAAA key65000 key3=53",
             "1 . alpn=\"h3,h2\" no-default-alpn port=13619 ech=AAAA key65000",
             "000100000100060268330268320002000000030002353300050003000000FDE80000"),
    // BIND reads an ECH parameter without a value as empty.
    TypeCase(.svcb, "1 . ech=\"\" alpn=h2",
             "1 . alpn=\"h2\" ech",
             "000100000100030268320005 0000"),
]

@Test(arguments: typeCases)
func recordTypeParsesPrintsAndEncodes(_ sample: TypeCase) throws {
    let rdata = try RDataText.parse(type: sample.type, text: sample.text, origin: name("example."))
    #expect(rdata == bytes(sample.wire))
    let printed = RDataText.format(type: sample.type, rdata: rdata)
    #expect(printed == sample.printed)
    #expect(try RDataText.parse(type: sample.type, text: printed, origin: .root) == rdata)
    // The RFC 3597 form of the same octets is checked against the layout and accepted.
    #expect(try RDataText.parse(type: sample.type, text: RDataText.generic(rdata)) == rdata)
}

/// RDATA text that must be rejected, with the column and message of the error.
struct TypeRejectCase: Sendable, CustomTestStringConvertible {
    var type: RRType
    var text: String
    var error: String

    init(_ type: RRType, _ text: String, _ error: String) {
        self.type = type
        self.text = text
        self.error = error
    }

    var testDescription: String { "\(type) \(text)" }
}

let typeRejectCases: [TypeRejectCase] = [
    TypeRejectCase(.rp, "mbox", "5: missing domain name in RP RDATA"),
    TypeRejectCase(.afsdb, "65536 afs", "1: number 65536 out of range (0..65535)"),
    TypeRejectCase(.uri, "10 1", "5: missing value in URI RDATA"),
    TypeRejectCase(.openpgpkey, "AAA", "1: bad base64 data"),
    TypeRejectCase(.openpgpkey, "AA=A", "1: bad base64 data"),
    TypeRejectCase(.openpgpkey, "\"AAAA\"", "1: expected base64 data, not a quoted string"),
    TypeRejectCase(.dhcid, "", "1: missing base64 data in DHCID RDATA"),
    TypeRejectCase(.dnskey, "256 3 NOSUCHALG AAAA", "7: bad number \"NOSUCHALG\""),
    TypeRejectCase(.dnskey, "256 3 8", "8: missing base64 data in DNSKEY RDATA"),
    TypeRejectCase(.cds, "1 2 3", "6: missing hex data in CDS RDATA"),
    TypeRejectCase(.ds, "1 8 1 00", "7: digest type 1 needs 20 octets, not 1"),
    TypeRejectCase(.cds, "1 8 2 0011", "7: digest type 2 needs 32 octets, not 2"),
    TypeRejectCase(.zonemd, "1 1 1 0011", "7: digest type 1 needs 48 octets, not 2"),
    TypeRejectCase(.zonemd, "1 1 99 00112233445566778899AA", "8: ZONEMD digest shorter than 12 octets"),
    TypeRejectCase(.ds, "\\# 5 0001080100", "1: generic RDATA is not valid DS data"),
    TypeRejectCase(.rrsig, "FOO 8 2 300 20360101000000 20351201000000 1 example. AAAA", "1: unknown record type \"FOO\""),
    TypeRejectCase(.rrsig, "A 8 2 300 20361301000000 20351201000000 1 example. AAAA",
                   "11: bad time \"20361301000000\" (YYYYMMDDHHmmSS or seconds since 1970)"),
    TypeRejectCase(.rrsig, "A 8 2 300 19691231235959 20351201000000 1 example. AAAA",
                   "11: bad time \"19691231235959\" (YYYYMMDDHHmmSS or seconds since 1970)"),
    TypeRejectCase(.rrsig, "A 8 2 300 4294967296 20351201000000 1 example. AAAA",
                   "11: bad time \"4294967296\" (YYYYMMDDHHmmSS or seconds since 1970)"),
    TypeRejectCase(.nsec, "next.example.", "14: missing type list in NSEC RDATA"),
    TypeRejectCase(.nsec, "next.example. A BOGUS", "17: unknown record type \"BOGUS\" in the type list"),
    TypeRejectCase(.nsec3, "1 0 0 abc 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S", "7: bad salt \"abc\" (hex digits, or - for none)"),
    TypeRejectCase(.nsec3, "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3W", "9: bad base32hex hash \"2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3W\""),
    TypeRejectCase(.nsec3, "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3", "9: bad base32hex hash \"2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3\""),
    TypeRejectCase(.nsec3param, "1 0 0", "6: missing salt in NSEC3PARAM RDATA"),
    TypeRejectCase(.eui48, "00-00-5e-00-53", "1: bad EUI48 address \"00-00-5e-00-53\" (xx-xx-...)"),
    TypeRejectCase(.eui48, "00-00-5e-00-53-2", "1: bad EUI48 address \"00-00-5e-00-53-2\" (xx-xx-...)"),
    TypeRejectCase(.eui64, "00:00:5e:ef:10:00:00:2a", "1: bad EUI64 address \"00:00:5e:ef:10:00:00:2a\" (xx-xx-...)"),
    TypeRejectCase(.l64, "10 2001:db8:1140", "4: bad 64-bit L64 value \"2001:db8:1140\" (xxxx:xxxx:xxxx:xxxx)"),
    TypeRejectCase(.nid, "10 1:2:3:12345", "4: bad 64-bit NID value \"1:2:3:12345\" (xxxx:xxxx:xxxx:xxxx)"),
    TypeRejectCase(.l32, "10 10.1.2", "4: bad IPv4 address \"10.1.2\""),
    TypeRejectCase(.cert, "NOPE 0 0 AAAA", "1: bad number \"NOPE\""),
    TypeRejectCase(.cert, "PKIX 0 256 AAAA", "8: number 256 out of range (0..255)"),
    TypeRejectCase(.zonemd, "1 1 1", "6: missing hex data in ZONEMD RDATA"),
    TypeRejectCase(.csync, "1 0 A FOO", "7: unknown record type \"FOO\" in the type list"),
    TypeRejectCase(.loc, "91 N 0 E 0", "1: bad LOC latitude \"91\""),
    TypeRejectCase(.loc, "90 1 N 0 E 0", "6: LOC latitude beyond 90 degrees"),
    TypeRejectCase(.loc, "52 60 N 0 E 0", "4: bad LOC latitude \"60\""),
    TypeRejectCase(.loc, "52 1 60 N 0 E 0", "6: bad LOC latitude \"60\""),
    TypeRejectCase(.loc, "52 1 1.0001 N 0 E 0", "6: bad LOC latitude \"1.0001\""),
    TypeRejectCase(.loc, "52 n 0 E 0", "4: bad LOC latitude \"n\""),
    TypeRejectCase(.loc, "52 N 181 E 0", "6: bad LOC longitude \"181\""),
    TypeRejectCase(.loc, "52 N 1 X 0", "8: bad LOC longitude \"X\""),
    TypeRejectCase(.loc, "52 N 1 E", "9: missing location in LOC RDATA"),
    TypeRejectCase(.loc, "52 N 1 E -100000.01m", "10: bad LOC altitude \"-100000.01m\" (-100000.00m to 42849672.95m)"),
    TypeRejectCase(.loc, "52 N 1 E 42849672.96", "10: bad LOC altitude \"42849672.96\" (-100000.00m to 42849672.95m)"),
    TypeRejectCase(.loc, "52 N 1 E 0 1.001m", "12: bad LOC size \"1.001m\" (0m to 90000000.00m)"),
    TypeRejectCase(.loc, "52 N 1 E 0 1 90000000.01", "14: bad LOC horizontal precision \"90000000.01\" (0m to 90000000.00m)"),
    TypeRejectCase(.loc, "52 N 1 E 0 1 1 -1", "16: bad LOC vertical precision \"-1\" (0m to 90000000.00m)"),
    TypeRejectCase(.loc, "52 N 1 E 0 1 1 1 1", "18: unexpected \"1\" after the LOC RDATA"),
    TypeRejectCase(.ipseckey, "10 4 2 . AAAA", "4: bad IPSECKEY gateway type 4 (0 to 3)"),
    TypeRejectCase(.ipseckey, "10 0 2 gw AAAA", "8: gateway type 0 needs \".\" as the gateway, not \"gw\""),
    TypeRejectCase(.ipseckey, "10 1 2 ::1 AAAA", "8: bad IPv4 address \"::1\""),
    TypeRejectCase(.ipseckey, "10 2 2 192.0.2.1 AAAA", "8: bad IPv6 address \"192.0.2.1\""),
    TypeRejectCase(.ipseckey, "10 1 2 192.0.2.1", "17: missing base64 data in IPSECKEY RDATA"),
    TypeRejectCase(.apl, "3:1.2.3.4/32", "1: bad APL item \"3:1.2.3.4/32\" ([!]1:IPv4/prefix or [!]2:IPv6/prefix)"),
    TypeRejectCase(.apl, "1:1.2.3.4/33", "1: bad APL item \"1:1.2.3.4/33\" ([!]1:IPv4/prefix or [!]2:IPv6/prefix)"),
    TypeRejectCase(.apl, "1:1.2.3.4", "1: bad APL item \"1:1.2.3.4\" ([!]1:IPv4/prefix or [!]2:IPv6/prefix)"),
    TypeRejectCase(.apl, "2:1.2.3.4/8", "1: bad APL address in \"2:1.2.3.4/8\""),
    TypeRejectCase(.svcb, "1 . no-default-alpn", "5: no-default-alpn without alpn"),
    TypeRejectCase(.svcb, "1 . mandatory=port", "5: mandatory key port is not present"),
    TypeRejectCase(.svcb, "1 . mandatory=mandatory alpn=h2", "5: mandatory lists mandatory"),
    TypeRejectCase(.svcb, "1 . mandatory=alpn,alpn alpn=h2", "5: mandatory lists alpn more than once"),
    TypeRejectCase(.svcb, "1 . mandatory=bogus", "5: bad mandatory value: unknown key \"bogus\""),
    TypeRejectCase(.svcb, "1 . port=1 port=2", "5: SvcParamKey port appears more than once"),
    TypeRejectCase(.svcb, "1 . port=1 key3=\\000\\002", "5: SvcParamKey port appears more than once"),
    TypeRejectCase(.svcb, "1 . key65535", "5: key65535 is reserved"),
    TypeRejectCase(.svcb, "1 . key065", "5: unknown SvcParam key in \"key065\""),
    TypeRejectCase(.svcb, "1 . key65536=x", "5: unknown SvcParam key in \"key65536=x\""),
    TypeRejectCase(.svcb, "1 . alpn", "5: bad alpn value: missing"),
    TypeRejectCase(.svcb, "1 . alpn=", "5: bad alpn value: missing"),
    TypeRejectCase(.svcb, "1 . alpn=h2,", "5: bad alpn value: empty item in the list"),
    TypeRejectCase(.svcb, "1 . alpn=h2 no-default-alpn=x", "13: bad no-default-alpn value: none allowed"),
    TypeRejectCase(.svcb, "1 . port=65536", "5: bad port value: not a port number"),
    TypeRejectCase(.svcb, "1 . port=", "5: bad port value: missing"),
    TypeRejectCase(.svcb, "1 . ipv4hint=1.2.3.4,::1", "5: bad ipv4hint value: bad address \"::1\""),
    TypeRejectCase(.svcb, "1 . ipv6hint=1.2.3.4", "5: bad ipv6hint value: bad address \"1.2.3.4\""),
    TypeRejectCase(.svcb, "1 . ech=AAA", "5: bad ech value: not base64"),
    TypeRejectCase(.svcb, "1 . \"alpn=h2\"", "5: expected a SvcParam key, not a quoted string"),
    TypeRejectCase(.https, "1", "2: missing domain name in HTTPS RDATA"),
    // RFC 3597 RDATA is held to the type's layout, as BIND does.
    TypeRejectCase(.dnskey, "\\# 4 01000308", "1: generic RDATA is not valid DNSKEY data"),
    TypeRejectCase(.nsec, "\\# 2 0000", "1: generic RDATA is not valid NSEC data"),
    TypeRejectCase(.nsec, "\\# 4 00 000100", "1: generic RDATA is not valid NSEC data"),
    TypeRejectCase(.nsec, "\\# 7 00 010140 000140", "1: generic RDATA is not valid NSEC data"),
    TypeRejectCase(.loc, "\\# 16 01121613800000017FC9118100000000", "1: generic RDATA is not valid LOC data"),
    TypeRejectCase(.loc, "\\# 16 00A21613800000017FC9118100000000", "1: generic RDATA is not valid LOC data"),
    TypeRejectCase(.loc, "\\# 15 001216138000000180000000000000", "1: generic RDATA is not valid LOC data"),
    TypeRejectCase(.ipseckey, "\\# 5 0A04020102", "1: generic RDATA is not valid IPSECKEY data"),
    TypeRejectCase(.apl, "\\# 5 0001200100", "1: generic RDATA is not valid APL data"),
    TypeRejectCase(.apl, "\\# 8 0001210501020304", "1: generic RDATA is not valid APL data"),
    TypeRejectCase(.svcb, "\\# 11 000100 0003 0000 0001 0000", "1: generic RDATA is not valid SVCB data"),
    TypeRejectCase(.svcb, "\\# 7 000100 0002 0000", "1: generic RDATA is not valid SVCB data"),
    TypeRejectCase(.https, "\\# 9 000100 0000 0002 0000", "1: generic RDATA is not valid HTTPS data"),
    TypeRejectCase(.nsec3param, "\\# 5 0100000001", "1: generic RDATA is not valid NSEC3PARAM data"),
]

@Test(arguments: typeRejectCases)
func recordTypeRejects(_ sample: TypeRejectCase) {
    do {
        let rdata = try RDataText.parse(type: sample.type, text: sample.text, origin: name("example."))
        Issue.record("accepted as \(RDataText.format(type: sample.type, rdata: rdata))")
    } catch {
        #expect("\(error.position.column): \(error.message)" == sample.error)
    }
}

/// Names in the new types are never compressed on output (RFC 3597 section 4), and the
/// mnemonics read back whatever their case.
@Test func newTypesHaveNoCompressibleNames() {
    for type: RRType in [.rp, .afsdb, .kx, .lp, .rrsig, .nsec, .ipseckey, .svcb, .https] {
        #expect(RDataLayout.of(type)?.hasCompressibleName == false, "\(type)")
    }
    for (type, mnemonic) in RRType.mnemonics {
        #expect(RRType(mnemonic: mnemonic.lowercased()) == type)
    }
}

@Test func recordTypesInAZoneFile() {
    let result = parse("""
        $TTL 300
        @ LOC ( 52 22 23.000 N
                4 53 32.000 E -2m )
        @ SVCB 1 . ( alpn="h2,h3" ; a comment
                     port=8443 )
        @ DNSKEY 257 3 13 ( mdsswUyr3DPW132mOi8V9xESWE8jTo0d
                            xCjjnopKl+GqJxpVXckHAeF+KkxLbxIL
                            fDLUT0rAK9iUzy1L53eKGQ== )
        @ openpgpkey \\# 3 010203
        @ EUI48 \\# 6 00005e00532a
        @ TYPE99 "v=spf1"
        bad LOC 91 N 0 E 0
        bad NSEC3 1 0 0 - zzz
        """)
    #expect(lines(result.records) == [
        "example. 300 IN LOC 52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m",
        "example. 300 IN SVCB 1 . alpn=\"h2,h3\" port=8443",
        "example. 300 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
        "example. 300 IN OPENPGPKEY AQID",
        "example. 300 IN EUI48 00-00-5e-00-53-2a",
        "example. 300 IN SPF \"v=spf1\"",
    ])
    #expect(located(result.errors) == ["12:9: bad LOC latitude \"91\"", "13:19: bad base32hex hash \"zzz\""])
}
