DROP TABLE intake_submissions;
DROP TABLE intakes;
