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
    intakes (id) {
        id -> Text,
        name -> Text,
        organization_id -> Text,
        secret_hash -> Text,
        secret_hint -> Text,
        mapping -> Text,
        body_sha256 -> Text,
        created_by -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    intake_submissions (id) {
        id -> Text,
        intake_id -> Text,
        instance_id -> Text,
        deprecated_id -> Nullable<Text>,
        channel -> Text,
        content_type -> Text,
        payload -> Text,
        state -> Text,
        reason -> Nullable<Text>,
        convoy_id -> Nullable<Text>,
        event_id -> Nullable<Text>,
        attempts -> Integer,
        received_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::joinable!(intake_submissions -> intakes (intake_id));

diesel::table! {
    web_sessions (id_hash) {
        id_hash -> Text,
        token_id -> Text,
        csrf -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
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
diesel::joinable!(web_sessions -> tokens (token_id));

diesel::table! {
    convoys (id) {
        id -> Text,
        organization_id -> Text,
        reference -> Text,
        route_id -> Text,
        trucks -> Nullable<Integer>,
        planned_departure -> BigInt,
        planned_departure_offset -> Integer,
        expected_arrival -> BigInt,
        expected_arrival_offset -> Integer,
        note -> Nullable<Text>,
        status -> Text,
        last_checkpoint_id -> Nullable<Text>,
        last_seen_at -> Nullable<BigInt>,
        planned_kg -> BigInt,
        loaded_kg -> BigInt,
        delivered_kg -> BigInt,
        short_loaded_kg -> BigInt,
        denied_kg -> BigInt,
        lost_kg -> BigInt,
        rejected_kg -> BigInt,
        outstanding_kg -> BigInt,
        cancelled_kg -> BigInt,
        ledger_version -> BigInt,
        body_sha256 -> Text,
        created_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        chain_genesis -> Nullable<Text>,
        chain_head -> Nullable<Text>,
        truck_steps -> Nullable<Text>,
    }
}

diesel::table! {
    manifest_lines (convoy_id, line_no) {
        convoy_id -> Text,
        line_no -> Integer,
        commodity_id -> Text,
        kg -> BigInt,
        quantity -> Text,
        unit -> Text,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        convoy_id -> Text,
        seq -> BigInt,
        kind -> Text,
        checkpoint_id -> Nullable<Text>,
        observed_at -> BigInt,
        observed_offset -> Integer,
        recorded_at -> BigInt,
        recorded_by -> Text,
        reason -> Nullable<Text>,
        note -> Nullable<Text>,
        corrects -> Nullable<Text>,
        body_sha256 -> Text,
        chain_sha256 -> Nullable<Text>,
        trucks_passed -> Nullable<Integer>,
        trucks_held -> Nullable<Integer>,
        trucks_turned_back -> Nullable<Integer>,
    }
}

diesel::table! {
    event_lines (event_id, line_no) {
        event_id -> Text,
        line_no -> Integer,
        commodity_id -> Text,
        kg -> BigInt,
        quantity -> Text,
        unit -> Text,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    convoy_figures (convoy_id, commodity_id) {
        convoy_id -> Text,
        commodity_id -> Text,
        planned_kg -> BigInt,
        loaded_kg -> BigInt,
        delivered_kg -> BigInt,
        short_loaded_kg -> BigInt,
        denied_kg -> BigInt,
        lost_kg -> BigInt,
        rejected_kg -> BigInt,
        outstanding_kg -> BigInt,
        cancelled_kg -> BigInt,
    }
}

diesel::table! {
    convoy_losses (convoy_id, commodity_id, checkpoint_id, reason) {
        convoy_id -> Text,
        commodity_id -> Text,
        checkpoint_id -> Text,
        reason -> Text,
        kg -> BigInt,
    }
}

diesel::joinable!(convoys -> organizations (organization_id));
diesel::joinable!(convoys -> routes (route_id));
diesel::table! {
    claims (id) {
        id -> Text,
        convoy_id -> Text,
        source -> Text,
        url -> Nullable<Text>,
        published_at -> BigInt,
        published_offset -> Integer,
        kg -> BigInt,
        quantity -> Text,
        unit -> Text,
        trucks -> Nullable<Integer>,
        quote -> Nullable<Text>,
        body_sha256 -> Text,
        created_by -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(claims -> convoys (convoy_id));
diesel::joinable!(manifest_lines -> convoys (convoy_id));
diesel::joinable!(manifest_lines -> commodities (commodity_id));
diesel::joinable!(events -> convoys (convoy_id));
diesel::joinable!(event_lines -> events (event_id));
diesel::joinable!(convoy_figures -> convoys (convoy_id));
diesel::joinable!(convoy_losses -> convoys (convoy_id));

diesel::table! {
    requirements (id) {
        id -> Text,
        route_id -> Text,
        commodity_id -> Nullable<Text>,
        from_date -> Text,
        to_date -> Text,
        kg_per_day -> BigInt,
        note -> Nullable<Text>,
        body_sha256 -> Text,
        created_by -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    deliveries (event_id, commodity_id) {
        event_id -> Text,
        commodity_id -> Text,
        convoy_id -> Text,
        observed_at -> BigInt,
        kg -> BigInt,
    }
}

diesel::table! {
    week_rollups (week, route_id, organization_id, commodity_id) {
        week -> Text,
        route_id -> Text,
        organization_id -> Text,
        commodity_id -> Text,
        planned_kg -> BigInt,
        loaded_kg -> BigInt,
        delivered_kg -> BigInt,
        delivered_during_kg -> BigInt,
        short_loaded_kg -> BigInt,
        denied_kg -> BigInt,
        lost_kg -> BigInt,
        rejected_kg -> BigInt,
        outstanding_kg -> BigInt,
        cancelled_kg -> BigInt,
    }
}

diesel::table! {
    rollup_state (id) {
        id -> Integer,
        timezone -> Text,
    }
}

diesel::table! {
    report_dirty (week) {
        week -> Text,
        marked_at -> BigInt,
    }
}

diesel::table! {
    report_snapshots (week, revision) {
        week -> Text,
        revision -> Integer,
        timezone -> Text,
        sha256 -> Text,
        body -> Text,
        model -> Text,
        published_at -> BigInt,
        published_by -> Text,
        chain_heads -> Nullable<Text>,
        chain_root -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        event_type -> Text,
        subject -> Text,
        organization_id -> Nullable<Text>,
        payload -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(requirements -> routes (route_id));
diesel::joinable!(deliveries -> convoys (convoy_id));

diesel::table! {
    alerts (id) {
        id -> Text,
        rule -> Text,
        subject_kind -> Text,
        subject -> Text,
        route_id -> Nullable<Text>,
        organization_id -> Nullable<Text>,
        severity -> Text,
        state -> Text,
        message -> Text,
        opened_at -> BigInt,
        last_evaluated_at -> BigInt,
        acknowledged_by -> Nullable<Text>,
        acknowledged_at -> Nullable<BigInt>,
        acknowledge_note -> Nullable<Text>,
        resolved_at -> Nullable<BigInt>,
        resolved_by -> Nullable<Text>,
        resolve_note -> Nullable<Text>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        secret -> Text,
        events -> Text,
        organization_id -> Nullable<Text>,
        body_sha256 -> Text,
        created_by -> Text,
        created_at -> BigInt,
        deleted_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        outbox_id -> Text,
        event_type -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        lease_until -> Nullable<BigInt>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> BigInt,
        delivered_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhook_attempts (delivery_id, attempt) {
        delivery_id -> Text,
        attempt -> Integer,
        started_at -> BigInt,
        duration_ms -> BigInt,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_deliveries -> outbox (outbox_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    checkpoints,
    commodities,
    routes,
    route_checkpoints,
    tokens,
    web_sessions,
    intakes,
    intake_submissions,
    convoys,
    manifest_lines,
    claims,
    events,
    event_lines,
    convoy_figures,
    convoy_losses,
    requirements,
    deliveries,
    week_rollups,
    rollup_state,
    report_dirty,
    report_snapshots,
    outbox,
    alerts,
    webhooks,
    webhook_deliveries,
    webhook_attempts,
);
