package sandbox

import (
	"container/list"
	"regexp"
	"strconv"
	"sync"

	"github.com/go-sourcemap/sourcemap"
)

// sourceMapper maps positions in the code that runs back to what the
// customer wrote. A nil mapper maps nothing.
type sourceMapper struct {
	c *sourcemap.Consumer
}

// modulePosition is a position in the running module, as the engine writes
// it in stack traces and messages: function.js:LINE:COLUMN, both 1-based.
var modulePosition = regexp.MustCompile(regexp.QuoteMeta(moduleName) + `:(\d+)(?::(\d+))?`)

// rewrite replaces every position in the running module that text names
// with the customer's file, line and column it came from. Positions the map
// doesn't cover stay as they are.
func (m *sourceMapper) rewrite(text string) string {
	if m == nil || m.c == nil {
		return text
	}
	return modulePosition.ReplaceAllStringFunc(text, func(pos string) string {
		sub := modulePosition.FindStringSubmatch(pos)
		line, _ := strconv.Atoi(sub[1])
		col := 1
		if sub[2] != "" {
			col, _ = strconv.Atoi(sub[2])
		}
		file, _, l, c, ok := m.c.Source(line, max(col-1, 0))
		if !ok || file == "" {
			return pos
		}
		return file + ":" + strconv.Itoa(l) + ":" + strconv.Itoa(c+1)
	})
}

// sourceMaps keeps the mappers of recently run versions, so a map is parsed
// once, not on every call.
type sourceMaps struct {
	mu   sync.Mutex
	byID map[string]*list.Element // of *sourceMapEntry
	lru  *list.List
}

type sourceMapEntry struct {
	id string
	m  *sourceMapper
}

// maxSourceMaps bounds the mappers kept; a parsed map costs about as much
// memory as its JSON.
const maxSourceMaps = 256

func newSourceMaps() *sourceMaps {
	return &sourceMaps{byID: map[string]*list.Element{}, lru: list.New()}
}

// get returns the mapper of a function's source map, nil when it has none
// or it can't be read.
func (s *sourceMaps) get(fn Function) *sourceMapper {
	if len(fn.SourceMap) == 0 {
		return nil
	}
	// A version's uid names its map; without one (outlet dev), identical
	// code may come from sources that differ in comments alone, so the map's
	// size is part of the name.
	id := fn.UID
	if id == "" {
		if fn.SHA256 == "" {
			return s.mapper(fn.SourceMap)
		}
		id = fn.SHA256 + ":" + strconv.Itoa(len(fn.SourceMap))
	}
	s.mu.Lock()
	if el, ok := s.byID[id]; ok {
		s.lru.MoveToFront(el)
		s.mu.Unlock()
		return el.Value.(*sourceMapEntry).m
	}
	s.mu.Unlock()
	m := s.mapper(fn.SourceMap)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[id]; !ok {
		s.byID[id] = s.lru.PushFront(&sourceMapEntry{id: id, m: m})
		for s.lru.Len() > maxSourceMaps {
			delete(s.byID, s.lru.Remove(s.lru.Back()).(*sourceMapEntry).id)
		}
	}
	return m
}

// mapper parses a source map; one that can't be read maps nothing.
func (s *sourceMaps) mapper(b []byte) *sourceMapper {
	if len(b) == 0 {
		return nil
	}
	c, err := sourcemap.Parse("", b)
	if err != nil {
		return nil
	}
	return &sourceMapper{c: c}
}
