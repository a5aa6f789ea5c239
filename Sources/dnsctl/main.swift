print("dnsctl")
