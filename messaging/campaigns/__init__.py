"""The domain: clients, who a campaign reaches, its text, its windows, imports and opt-outs.
The models stay in messaging/models (app label `messaging`)."""
