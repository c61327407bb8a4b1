package e2e

import (
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

func TestPlainlyPrivateEndpointURLsAreRefusedAtRegistration(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--allow-private-networks=false")
	s.tenant("acme")
	for _, url := range []string{
		"http://127.0.0.1:8080/hook",
		"http://127.1.2.3/",
		"http://localhost:3000/",
		"http://api.localhost/",
		"http://[::1]/",
		"http://[::ffff:127.0.0.1]/",
		"http://169.254.169.254/latest/meta-data/",
		"http://[fd00:ec2::254]/",
		"http://10.1.2.3/",
		"http://172.16.0.1/",
		"http://192.168.1.1/",
		"http://100.64.0.1/",
		"http://224.0.0.1/",
		"http://0.0.0.0/",
		"http://[fe80::1]/",
		"ftp://example.com/",
		"example.com/hook",
	} {
		var e struct {
			Error struct{ Code, Message string }
		}
		status := s.call(adminKey, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": url}, &e)
		if status != 422 || e.Error.Message == "" {
			t.Errorf("registering %s answered %d %+v; want 422 with a reason", url, status, e)
		}
	}
	if status := s.call(adminKey, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": "https://hooks.example.com/outlet"}, nil); status != 201 {
		t.Errorf("a public URL answered %d; want 201", status)
	}
}

func TestNamesThatResolveToPrivateAddressesAreRefusedWhenConnecting(t *testing.T) {
	t.Parallel()
	dns := startDNS(t, map[string]net.IP{
		"rebind.test.":   net.IPv4(127, 0, 0, 1),
		"metadata.test.": net.IPv4(169, 254, 169, 254),
	})
	s := startServer(t, "--allow-private-networks=false", "--dns-server", dns, "--retry-schedule", "")
	rcv := newReceiver(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(rcv.srv.URL, "http://"))
	tenant := s.tenant("acme")
	cases := map[string]string{
		"http://rebind.test:" + port + "/hook":   "127.0.0.1 is a loopback address",
		"http://metadata.test:" + port + "/hook": "169.254.169.254 is a link-local address",
	}
	for url := range cases {
		s.endpoint(tenant, map[string]any{"url": url}) // a name is not plainly private: accepted
	}
	s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	waitFor(t, 10*time.Second, "both deliveries to fail", func() bool {
		return len(s.deliveries(tenant, "status=failed")) == 2
	})
	for _, d := range s.deliveries(tenant, "") {
		var ep endpoint
		s.must(200, "GET", "/v1/tenants/acme/endpoints/"+d.Target.ID, nil, &ep)
		as := s.attempts(tenant, d.ID)
		want := strings.ReplaceAll(cases[ep.URL], " is ", ": it is ")
		if len(as) != 1 || !strings.Contains(as[0].Error, want) {
			t.Errorf("%s: attempts %+v; want an error saying %q", ep.URL, as, want)
		}
	}
	if n := rcv.count(); n != 0 {
		t.Errorf("the receiver on 127.0.0.1 got %d requests through a name; want none", n)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--retry-schedule", "")
	target := newReceiver(t)
	rcv := newReceiver(t)
	rcv.respond(reply{status: 302, headers: map[string]string{"Location": target.srv.URL + "/elsewhere"}})
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	id := s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	d := s.waitDelivery(tenant, id, "failed", 10*time.Second)
	as := s.attempts(tenant, d.ID)
	if len(as) != 1 || as[0].StatusCode != 302 || !strings.Contains(as[0].Error, "redirect") {
		t.Errorf("attempts %+v; want one failed attempt that names the redirect", as)
	}
	if target.count() != 0 {
		t.Errorf("the redirect target was called")
	}
}

// startDNS answers A queries for the given names on a UDP port of
// 127.0.0.1, and says there is nothing else.
func startDNS(t *testing.T, names map[string]net.IP) string {
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
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
			b.EnableCompression()
			ip, known := names[strings.ToLower(q.Name.String())]
			if !known {
				b = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RCode: dnsmessage.RCodeNameError})
			}
			b.StartQuestions()
			b.Question(q)
			if known && q.Type == dnsmessage.TypeA {
				b.StartAnswers()
				b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 1},
					dnsmessage.AResource{A: [4]byte(ip.To4())})
			}
			msg, err := b.Finish()
			if err == nil {
				pc.WriteTo(msg, addr)
			}
		}
	}()
	return pc.LocalAddr().String()
}
