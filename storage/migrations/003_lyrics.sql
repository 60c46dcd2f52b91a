-- 003: PLACEHOLDER for the lyrics branch (/write), which holds the real 003_lyrics.sql. Same
-- file name on purpose: merging both branches conflicts here; keep the lyrics version.
SELECT 1;
