// @keel/raft: the Raft consensus core (being written).
