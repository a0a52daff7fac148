using System;
using System.Collections.Generic;
using System.Data.Common;
using System.Threading.Tasks;

namespace Acme.Accounts.Data
{
    public sealed record UserSummary(long Id, string Email, string DisplayName, bool IsActive);

    public class UserRepository
    {
        private const int MaxResults = 100;
        private readonly DbConnection _connection;

        public UserRepository(DbConnection connection)
        {
            _connection = connection ?? throw new ArgumentNullException(nameof(connection));
        }

        public async Task<IReadOnlyList<UserSummary>> SearchAsync(
            string emailPrefix, bool activeOnly, int limit)
        {
            var sql = "SELECT id, email, display_name, is_active FROM users " +
                      "WHERE email LIKE @prefix ESCAPE '\\'";
            if (activeOnly)
            {
                sql += " AND is_active = 1";
            }
            sql += " ORDER BY email LIMIT @limit";

            await using var command = _connection.CreateCommand();
            command.CommandText = sql;
            AddParameter(command, "@prefix", EscapeLike(emailPrefix ?? string.Empty) + "%");
            AddParameter(command, "@limit", Math.Clamp(limit, 1, MaxResults));

            var results = new List<UserSummary>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                results.Add(new UserSummary(
                    reader.GetInt64(0),
                    reader.GetString(1),
                    reader.GetString(2),
                    reader.GetBoolean(3)));
            }
            return results;
        }

        private static void AddParameter(DbCommand command, string name, object value)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        private static string EscapeLike(string value) =>
            value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
    }
}
