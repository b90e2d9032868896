//! Table definitions, in portable types so one schema serves SQLite and PostgreSQL.

diesel::table! {
    organizations (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        body_sha256 -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    checkpoints (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        max_dwell_minutes -> Integer,
        body_sha256 -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    commodities (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        density_mg_per_l -> Nullable<BigInt>,
        body_sha256 -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    routes (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        body_sha256 -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    route_checkpoints (route_id, position) {
        route_id -> Text,
        position -> Integer,
        checkpoint_id -> Text,
        leg_minutes -> Integer,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        organization_id -> Nullable<Text>,
        token_hash -> Text,
        hint -> Text,
        body_sha256 -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(route_checkpoints -> routes (route_id));
diesel::joinable!(route_checkpoints -> checkpoints (checkpoint_id));
diesel::joinable!(tokens -> organizations (organization_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    checkpoints,
    commodities,
    routes,
    route_checkpoints,
    tokens,
);
