-- Browser sessions: a signed-in person's cookie stands for the token they signed in with.
-- Only the SHA-256 of the cookie's secret is stored, like a token's. A session ends when
-- its token is revoked (every lookup joins tokens), when it expires, or at sign-out.
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    token_id TEXT NOT NULL REFERENCES tokens(id),
    -- the per-session CSRF token every state-changing request must carry
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_token ON web_sessions (token_id);
