package outlet

import (
	"strings"
	"testing"
)

func testCipher(t testing.TB) *IDCipher {
	c, err := NewIDCipher([]byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIDsRoundTripAndHideTheirPosition(t *testing.T) {
	t.Parallel()
	c := testCipher(t)
	seen := map[string]bool{}
	for _, pos := range []int64{1, 2, 3, 42, 1 << 31, 1<<62 + 7, 1<<63 - 1} {
		id := c.Encode(PrefixDelivery, pos)
		if len(id) != len(PrefixDelivery)+13 || strings.Trim(id[4:], "0123456789abcdefghjkmnpqrstvwxyz") != "" {
			t.Errorf("id %q is not dlv_ and 13 id characters", id)
		}
		if seen[id] {
			t.Errorf("two positions share id %s", id)
		}
		seen[id] = true
		got, ok := c.Decode(PrefixDelivery, id)
		if !ok || got != pos {
			t.Errorf("Decode(Encode(%d)) = %d, %v", pos, got, ok)
		}
	}
	// Neighbouring positions share no visible prefix beyond chance.
	a, b := c.Encode(PrefixDelivery, 1000), c.Encode(PrefixDelivery, 1001)
	if a[:10] == b[:10] {
		t.Errorf("ids of neighbours look alike: %s %s", a, b)
	}
	other, _ := NewIDCipher([]byte("fedcba9876543210"))
	if other.Encode(PrefixDelivery, 1000) == a {
		t.Errorf("another key makes the same id")
	}
}

func TestDecodeRefusesWhatEncodeCantHaveMade(t *testing.T) {
	t.Parallel()
	c := testCipher(t)
	good := c.Encode(PrefixDelivery, 5)
	for _, bad := range []string{"", "dlv_", good[:len(good)-1], good + "0", "att_" + good[4:], "dlv_IIIIIIIIIIIII",
		"dlv_zzzzzzzzzzzzz", strings.ToUpper(good), "dlv_0000000000000", "dlv_01j8x9k2m4n6p"} {
		if pos, ok := c.Decode(PrefixDelivery, bad); ok && c.Encode(PrefixDelivery, pos) != bad {
			t.Errorf("%q decodes to %d, but %d encodes to %s", bad, pos, pos, c.Encode(PrefixDelivery, pos))
		}
	}
	if _, ok := c.Decode(PrefixAttempt, good); ok {
		t.Errorf("a delivery id decodes as an attempt id")
	}
}

func FuzzIDCipher(f *testing.F) {
	c := testCipher(f)
	f.Add(int64(1), "dlv_0123456789abc")
	f.Fuzz(func(t *testing.T, pos int64, id string) {
		if pos > 0 {
			if got, ok := c.Decode(PrefixDelivery, c.Encode(PrefixDelivery, pos)); !ok || got != pos {
				t.Errorf("round trip of %d gave %d, %v", pos, got, ok)
			}
		}
		if p, ok := c.Decode(PrefixDelivery, id); ok && c.Encode(PrefixDelivery, p) != id {
			t.Errorf("%q decodes to %d, which encodes otherwise", id, p)
		}
	})
}

func BenchmarkIDCipher(b *testing.B) {
	c := testCipher(b)
	for i := range b.N {
		c.Decode(PrefixDelivery, c.Encode(PrefixDelivery, int64(i+1)))
	}
}
