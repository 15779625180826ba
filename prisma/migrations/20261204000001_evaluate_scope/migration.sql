-- Keys that could tune the settings keep evaluating the catalog: EVALUATE for every key with
-- SETTINGS_WRITE (the bootstrap key among them). A SEARCH-only key no longer can. A migration of
-- its own: a new enum value cannot be used in the transaction that adds it.
UPDATE "api_keys"
SET "scopes" = array_append("scopes", 'EVALUATE'::"ApiScope")
WHERE 'SETTINGS_WRITE'::"ApiScope" = ANY("scopes")
  AND NOT ('EVALUATE'::"ApiScope" = ANY("scopes"));
