package outlet

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
)

// IDCipher turns a store's row positions into public ids and back.
//
// A row's position is the cheapest key a store has: looking a delivery up by
// it needs no index of its own. But positions count up, and an id that showed
// one would tell every tenant how many deliveries the whole platform makes.
// So ids are positions encrypted with a key kept in the database: a keyed
// permutation of 64-bit numbers, one to one, that reveals nothing without the
// key. It is a four-round Feistel network with AES as its round function.
type IDCipher struct {
	block cipher.Block
}

// idEncoding writes the 8 bytes of an encrypted position as 13 lowercase
// characters without the look-alikes i, l, o and u.
var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewIDCipher makes a cipher from a 16, 24 or 32 byte key.
func NewIDCipher(key []byte) (*IDCipher, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("id cipher key: %w", err)
	}
	return &IDCipher{block: b}, nil
}

const feistelRounds = 4

func (c *IDCipher) round(i int, half uint32) uint32 {
	var in, out [16]byte
	binary.BigEndian.PutUint32(in[:4], half)
	in[4] = byte(i)
	c.block.Encrypt(out[:], in[:])
	return binary.BigEndian.Uint32(out[:4])
}

func (c *IDCipher) encrypt(v uint64) uint64 {
	l, r := uint32(v>>32), uint32(v)
	for i := range feistelRounds {
		l, r = r, l^c.round(i, r)
	}
	return uint64(l)<<32 | uint64(r)
}

func (c *IDCipher) decrypt(v uint64) uint64 {
	l, r := uint32(v>>32), uint32(v)
	for i := feistelRounds - 1; i >= 0; i-- {
		l, r = r^c.round(i, l), l
	}
	return uint64(l)<<32 | uint64(r)
}

// Encode returns the public id of position pos: the prefix and 13 characters.
func (c *IDCipher) Encode(prefix string, pos int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], c.encrypt(uint64(pos)))
	return prefix + idEncoding.EncodeToString(b[:])
}

// Decode returns the position an id made by Encode stands for; false for any
// string Encode can't have made with this prefix.
func (c *IDCipher) Decode(prefix, id string) (int64, bool) {
	s, ok := strings.CutPrefix(id, prefix)
	if !ok || len(s) != 13 {
		return 0, false
	}
	b, err := idEncoding.DecodeString(s)
	// 13 characters carry 65 bits; only the spelling with the last bit clear
	// is an id, so no two strings name the same row.
	if err != nil || len(b) != 8 || idEncoding.EncodeToString(b) != s {
		return 0, false
	}
	pos := int64(c.decrypt(binary.BigEndian.Uint64(b)))
	return pos, pos > 0
}
