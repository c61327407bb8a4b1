package netguard

import (
	"net/netip"
	"strings"
	"testing"
)

func TestBlockedReason(t *testing.T) {
	t.Parallel()
	cases := []struct {
		addr    string
		blocked string // a word the reason must contain; "" means allowed
	}{
		{"127.0.0.1", "loopback"},
		{"127.255.0.9", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:10.0.0.1", "private"},
		{"64:ff9b::7f00:1", "loopback"},     // NAT64 of 127.0.0.1
		{"2002:a9fe:a9fe::1", "link-local"}, // 6to4 of 169.254.169.254
		{"::127.0.0.1", "loopback"},         // IPv4-compatible
		{"10.0.0.1", "private"},
		{"172.16.5.4", "private"},
		{"172.31.255.255", "private"},
		{"192.168.0.1", "private"},
		{"100.64.0.1", "CGNAT"},
		{"100.127.255.255", "CGNAT"},
		{"169.254.169.254", "link-local"},
		{"fd00:ec2::254", "unique-local"},
		{"fe80::1%eth0", "link-local"},
		{"224.0.0.251", "multicast"},
		{"ff02::1", "multicast"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"255.255.255.255", "reserved"},
		{"8.8.8.8", ""},
		{"172.32.0.1", ""},
		{"100.128.0.1", ""},
		{"2606:4700:4700::1111", ""},
		{"::ffff:1.1.1.1", ""},
		{"64:ff9b::808:808", ""},
	}
	for _, c := range cases {
		ip := netip.MustParseAddr(c.addr)
		got := BlockedReason(ip)
		switch {
		case c.blocked == "" && got != "":
			t.Errorf("%s is public but blocked as %q", c.addr, got)
		case c.blocked != "" && !strings.Contains(got, c.blocked):
			t.Errorf("%s: reason %q; want one naming %q", c.addr, got, c.blocked)
		}
	}
}

func TestCheckURLRefusesPlainlyPrivateHostsUnlessAllowed(t *testing.T) {
	t.Parallel()
	strict, open := Policy{}, Policy{AllowPrivate: true}
	for _, u := range []string{"http://127.0.0.1/", "http://localhost:80/", "https://x.localhost/", "http://[::1]:8080/", "http://10.0.0.1/"} {
		if strict.CheckURL(u) == nil {
			t.Errorf("%s accepted without --allow-private-networks", u)
		}
		if err := open.CheckURL(u); err != nil {
			t.Errorf("%s refused with --allow-private-networks: %v", u, err)
		}
	}
	for _, u := range []string{"https://hooks.example.com/x", "http://8.8.8.8/", "https://rebind.example/"} {
		if err := strict.CheckURL(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"", "ftp://example.com", "https://", "https://example.com/#frag", "not a url"} {
		if open.CheckURL(u) == nil {
			t.Errorf("%q accepted as an endpoint URL", u)
		}
	}
}

func TestTheDialerRefusesBlockedAddressesAtConnectTime(t *testing.T) {
	t.Parallel()
	d := Policy{}.Dialer(0)
	_, err := d.Dial("tcp", "127.0.0.1:9")
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("dialing 127.0.0.1 gave %v; want a refusal naming loopback", err)
	}
}
