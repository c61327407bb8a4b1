package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
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
		// IPv4-translated (RFC 2765, SIIT): ::ffff:0:0:0/96.
		{"::ffff:0:10.0.0.1", "private"},
		{"::ffff:0:127.0.0.1", "loopback"},
		{"::ffff:0:169.254.169.254", "link-local"},
		{"::ffff:0:8.8.8.8", ""},
		// The local-use NAT64 prefix (RFC 8215) in its /96 layout; the
		// other layouts are in TestLocalUseNAT64IsJudgedInEveryLayout.
		{"64:ff9b:1::10.0.0.1", "private"},
		{"64:ff9b:1:abcd::127.0.0.1", "loopback"},
		{"64:ff9b:1::1.1.1.1", ""},
		{"64:ff9b:1::", "unspecified"}, // carries no address a translator could reach
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

// rfc6052 embeds v4 in prefix as RFC 6052 section 2.2 places it for a prefix
// of the given length: right after the prefix, skipping bits 64-71.
func rfc6052(prefix string, length int, v4 string) netip.Addr {
	b := netip.MustParseAddr(prefix).As16()
	a := netip.MustParseAddr(v4).As4()
	for i := range 32 {
		bit := (a[i/8] >> (7 - i%8)) & 1
		pos := length + i
		if length < 96 && pos >= 64 {
			pos += 8
		}
		b[pos/8] |= bit << (7 - pos%8)
	}
	return netip.AddrFrom16(b)
}

func TestLocalUseNAT64IsJudgedInEveryLayout(t *testing.T) {
	t.Parallel()
	// The operator picks the prefix inside 64:ff9b:1::/48, and its length
	// decides where the IPv4 address sits; Outlet can't know which, so a
	// blocked address in any layout is refused.
	prefixes := map[int]string{48: "64:ff9b:1::", 56: "64:ff9b:1:ab00::", 64: "64:ff9b:1:abcd::", 96: "64:ff9b:1:abcd:0:ef::"}
	for _, length := range []int{48, 56, 64, 96} {
		for v4, want := range map[string]string{
			"10.0.0.1":        "private",
			"127.0.0.1":       "loopback",
			"169.254.169.254": "link-local",
			"192.168.1.20":    "private",
			"100.64.0.1":      "CGNAT",
		} {
			ip := rfc6052(prefixes[length], length, v4)
			got := BlockedReason(ip)
			if !strings.Contains(got, want) || !strings.Contains(got, v4) {
				t.Errorf("%s (%s in a /%d layout): reason %q; want one naming %q and %s", ip, v4, length, got, want, v4)
			}
		}
	}
	// Public addresses are reached through the usual /96 layout, and in the
	// others while no other reading of the bits is blocked.
	for _, c := range []struct {
		length int
		v4     string
	}{{96, "8.8.8.8"}, {96, "93.184.215.14"}, {96, "1.10.127.192"}, {64, "8.8.8.8"}, {56, "8.8.8.8"}, {48, "8.8.8.8"}, {48, "1.1.1.1"}} {
		prefix := "64:ff9b:1::"
		if ip := rfc6052(prefix, c.length, c.v4); BlockedReason(ip) != "" {
			t.Errorf("%s (%s in a /%d layout) is public but blocked as %q", ip, c.v4, c.length, BlockedReason(ip))
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	connected := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			connected <- struct{}{}
			c.Close()
		}
	}()
	_, err = Policy{}.Dial(time.Second)(context.Background(), "tcp", ln.Addr().String())
	var u *UnreachableError
	if !errors.As(err, &u) || !u.Refused || !strings.Contains(u.Detail, "loopback") {
		t.Fatalf("dialing %s gave %v; want an UnreachableError whose detail names loopback", ln.Addr(), err)
	}
	if strings.Contains(u.Error(), "127.0.0.1") == false || strings.Contains(u.Error(), "loopback address") {
		t.Errorf("the caller's message %q must name the host it asked for and not the kind of address", u.Error())
	}
	select {
	case <-connected:
		t.Error("the listener was connected to")
	default:
	}
}

func TestARefusedAddressAndANameThatDoesNotResolveReadTheSame(t *testing.T) {
	t.Parallel()
	dns := nxdomainServer(t)
	dial := Policy{DNSServer: dns}.Dial(2 * time.Second)
	ctx := context.Background()
	_, refused := dial(ctx, "tcp", "10.0.0.1:443")
	_, missing := dial(ctx, "tcp", "nothing-here.test:443")
	var r, m *UnreachableError
	if !errors.As(refused, &r) || !errors.As(missing, &m) {
		t.Fatalf("refused: %v; missing: %v; want both UnreachableErrors", refused, missing)
	}
	if a, b := strings.ReplaceAll(r.Error(), "10.0.0.1", "HOST"), strings.ReplaceAll(m.Error(), "nothing-here.test", "HOST"); a != b {
		t.Errorf("the messages differ beyond the host:\n%s\n%s", a, b)
	}
	if !r.Refused || !strings.Contains(r.Detail, "private") || m.Refused || !strings.Contains(m.Detail, "no such host") {
		t.Errorf("the operator's details %+v and %+v must say which is which", r, m)
	}
	// Without the policy, there is nothing to hide: the resolver's own
	// error comes through.
	_, err := Policy{AllowPrivate: true, DNSServer: dns}.Dial(2*time.Second)(ctx, "tcp", "nothing-here.test:443")
	if errors.As(err, &m) || !strings.Contains(fmt.Sprint(err), "no such host") {
		t.Errorf("with private networks allowed, a missing name gave %v; want the resolver's error", err)
	}
}

// nxdomainServer is a DNS server on 127.0.0.1 that knows no name.
func nxdomainServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RCode: dnsmessage.RCodeNameError})
			b.StartQuestions()
			b.Question(q)
			if msg, err := b.Finish(); err == nil {
				pc.WriteTo(msg, addr)
			}
		}
	}()
	return pc.LocalAddr().String()
}
