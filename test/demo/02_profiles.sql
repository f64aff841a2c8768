-- The team's hypothesis, written by hand, and an anti-profile: "Startup Sam"
-- loves the product but never has budget.
INSERT INTO icp_profiles (name, description, is_default) VALUES
    ('mid-market-saas', 'Our hypothesis: DACH software and fintech, 50-2000 staff, on Salesforce', true);
INSERT INTO icp_criteria (profile, rule, weight, required, dimension) VALUES
    ('mid-market-saas', 'industry IN (''software'', ''fintech'')',             30, false, 'firmographic'),
    ('mid-market-saas', 'employees BETWEEN 50 AND 2000',                       25, true,  'firmographic'),
    ('mid-market-saas', 'country IN (''DE'', ''AT'', ''CH'')',                    15, false, 'firmographic'),
    ('mid-market-saas', 'tech_stack CONTAINS ANY (''salesforce'', ''hubspot'')', 15, false, 'technographic'),
    ('mid-market-saas', 'growth > 0.2',                                        10, false, 'firmographic'),
    ('mid-market-saas', 'last_activity WITHIN ''90 days''',                     5, false, 'behavioural');

INSERT INTO icp_profiles (name, description, kind, grade_thresholds) VALUES
    ('startup-sam', 'Loves the product, never has budget', 'exclude', '{90,80,70}');
INSERT INTO icp_criteria (profile, rule, weight, required, dimension) VALUES
    ('startup-sam', 'employees < 20',                          40, true,  'firmographic'),
    ('startup-sam', 'funding_stage IN (''pre-seed'', ''seed'')', 30, false, 'firmographic'),
    ('startup-sam', 'web_visits_30d > 40',                     20, false, 'behavioural'),
    ('startup-sam', 'tech_stack CONTAINS ''notion''',            10, false, 'technographic');
