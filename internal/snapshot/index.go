package snapshot

import "hash/fnv"

// index is an immutable map from a string to V, split into 256 shards so
// that a snapshot that changes one workspace copies only the shards its
// credentials fall in, not every credential of every workspace.
type index[V any] struct {
	shards [256]map[string]V
}

func shardOf(k string) uint8 {
	h := fnv.New32a()
	h.Write([]byte(k))
	return uint8(h.Sum32())
}

func (x *index[V]) get(k string) (V, bool) {
	var zero V
	if x == nil {
		return zero, false
	}
	m := x.shards[shardOf(k)]
	v, ok := m[k]
	if !ok {
		return zero, false
	}
	return v, true
}

// with returns a new index without the keys of del and with add; only
// the shards either touches are copied.
func (x *index[V]) with(del []string, add map[string]V) *index[V] {
	n := &index[V]{}
	if x != nil {
		n.shards = x.shards
	}
	copied := [256]bool{}
	shard := func(k string) map[string]V {
		i := shardOf(k)
		if !copied[i] {
			m := make(map[string]V, len(n.shards[i])+1)
			for kk, vv := range n.shards[i] {
				m[kk] = vv
			}
			n.shards[i], copied[i] = m, true
		}
		return n.shards[i]
	}
	for _, k := range del {
		delete(shard(k), k)
	}
	for k, v := range add {
		shard(k)[k] = v
	}
	return n
}
